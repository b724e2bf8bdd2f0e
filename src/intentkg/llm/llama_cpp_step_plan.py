"""How a batched llama.cpp decoder shapes its decode steps so that an answer never depends on its batch-mates.

llama.cpp's CPU matrix kernels compute a row one way when a ``llama_decode`` call (one micro-batch)
holds few rows and another way when it holds many. Measured with llama-cpp-python 0.3.36 on an
AVX-512 Xeon (Gemma 3 270M, no extra buffers): a micro-batch of 1-7 sequences computes each exactly
as a step of one, one of 8 or more computes each exactly as any other of 8 or more, and the two
differ by ~0.04 nats in some rows. A decoder whose steps held 1-7 rows at one moment and 8+ at
another gave an answer that depended on how many batch-mates it had. Two shapes avoid that:

- **cap**: never more sequences a step than compute as alone (7 there): every step is "small";
- **pad**: every step holds at least ``min_rows`` rows, idle slots (and, below ``min_rows`` slots,
  streams that only ever hold pads) filled with a throw-away token, so every step is "large", whatever
  ``parallel`` (and a large step costs less a token: 12.3 CPU-ms at 8 rows and 9.0 at 16 against 16.3
  at 7, same machine).

:func:`plan_steps` measures which one holds on this machine and build, every row compared bit for
bit, and prefers padding. Rows must be in sequence-id order 0, 1, ... for llama.cpp to keep them in
one micro-batch (with one KV stream per sequence it splits a batch where sequence ids are out of
order), which is how :class:`~intentkg.llm.llama_cpp_batched.BatchedDecoder` lays out a step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from intentkg.llm.llama_cpp_batched import BatchedDecoder


@dataclass(frozen=True)
class StepPlan:
    """``slots`` sequences a decoder holds; every decode step holds at least ``min_rows`` rows (0: no padding)."""

    slots: int
    min_rows: int = 0


def _prompt(i: int, variant: int) -> str:
    return ("A tent is used for" if variant == 0 else "A gift for a cook:") * (1 + i % 3) + f" item {i}"


PROBE_SLOTS = 12  # the probe decoder holds at least this many sequences, so a threshold up to 12 is found


def plan_steps(decoder: "BatchedDecoder", parallel: int) -> StepPlan:
    """The step shape for a decoder of ``parallel`` slots under which every row's logits are bit for bit
    the same whatever its batch-mates; ``decoder`` is a probe of at least ``parallel`` slots (the pool
    makes it with :data:`PROBE_SLOTS`, so the plan does not depend on ``parallel``).

    A different short prompt in every slot (and, where ``n_ctx`` allows, a ~270-token one in the last,
    so some steps attend over more KV cells than others). Then: each slot's next step alone; steps of
    the first k slots, k = 2, 3, ...: the largest k whose every row equals its step alone is the cap.
    Past the cap, steps of k slots at both ends (slots 0..k-1 and P-k..P-1) for every k up to P,
    compared with a step of all P slots; the smallest k from which every such step agrees is the pad
    threshold, provided the agreement survives batch-mates with other contents (the even slots below
    it get other prompts, then a step of all P and one of the threshold's slots: the odd rows must not move).
    Slots are left empty."""
    lc, slots, size = decoder.lc, decoder.slots, decoder.parallel
    ends: list[int] = [0] * size
    tokens: list[int] = [0] * size

    def logits(i: int) -> np.ndarray:
        return np.ctypeslib.as_array(lc.llama_get_logits_ith(decoder.ctx, i), shape=(decoder.n_vocab,)).copy()

    def prompt(i: int, variant: int) -> None:
        text = _prompt(i, variant)
        if variant == 0 and i == size - 1 and decoder.n_ctx > 400:
            text = "A tent is used for " * 54 + text  # ~280 tokens: more KV cells than its batch-mates (256 a block)
        ids = decoder.tokenize(text, add_bos=True)[:max(1, decoder.n_ctx - 1)]  # room for the step's token
        decoder._forget(slots[i])
        decoder._eval(slots[i], ids, 0, logits_last=True)
        ends[i], tokens[i] = len(ids), int(np.argmax(logits(-1)))

    def step(seqs: range) -> dict[int, np.ndarray]:
        b = decoder.batch
        for row, seq in enumerate(seqs):
            lc.llama_memory_seq_rm(decoder.memory, seq, ends[seq], -1)
            b.token[row], b.pos[row], b.n_seq_id[row], b.logits[row] = tokens[seq], ends[seq], 1, 1
            b.seq_id[row][0] = seq
        b.n_tokens = len(seqs)
        if lc.llama_decode(decoder.ctx, b) != 0:
            raise RuntimeError("llama_decode failed while checking how decode steps compute their rows")
        return {seq: logits(row) for row, seq in enumerate(seqs)}

    def same(rows: dict[int, np.ndarray], reference: dict[int, np.ndarray]) -> bool:
        return all(np.array_equal(v, reference[seq]) for seq, v in rows.items() if seq in reference)

    try:
        for i in range(size):
            prompt(i, 0)
        alone = {0: step(range(1))[0]}
        cap = 1
        while cap < size:
            alone[cap] = step(range(cap, cap + 1))[cap]
            if not same(step(range(cap + 1)), alone):
                break
            cap += 1
        if cap == size:
            return StepPlan(parallel)
        full = step(range(size))
        large = [k for k in range(cap + 1, size + 1)
                 if same(step(range(k)), full) and same(step(range(size - k, size)), full)]
        threshold = next((k for k in large if all(j in large for j in range(k, size + 1))), None)
        if threshold is not None:
            for i in range(0, threshold, 2):
                prompt(i, 1)
            odd = {seq: v for seq, v in full.items() if seq % 2}
            if same(step(range(size)), odd) and same(step(range(threshold)), odd):
                return StepPlan(parallel, threshold)
        return StepPlan(min(parallel, cap))
    finally:
        for slot in slots:
            decoder._forget(slot)
