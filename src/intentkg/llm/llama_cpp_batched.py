"""Batched decoding for llama.cpp: several sequences of one model decoded together.

One llama.cpp context holds ``parallel`` sequences, each in its own KV stream (``kv_unified`` off,
llama.cpp's default); every decode step evaluates the next token of every active sequence in one
``llama_decode`` call, so the weights are read once per step instead of once per sequence (a
single decode stream on a CPU is bound by memory traffic, not arithmetic). When a sequence ends
(a stop sequence, an end-of-generation token or ``max_tokens``), the next waiting job takes its
slot at once (continuous batching), so short and long answers do not wait for each other.

Sampling mirrors llama-cpp-python's ``create_completion``: the same sampler chain in the same
order (penalties, top-k 40, typical 1.0, top-p, min-p 0.05, temperature, a seeded draw; greedy at
temperature 0), the same stop-sequence rule and finish reasons. Each job has its own sampler
with its own seed.

Prompts arrive as parts (token lists): a slot keeps the leading parts already in its KV stream
and evaluates every other part in a ``llama_decode`` call of its own, holding no other sequence.
So a sequence's prompt is always evaluated in the same pieces, alone; its decode steps share the
call with other sequences. llama.cpp's matrix kernels compute a row one way in a call of few rows and
another way in a call of many (measured: 1-7 against 8 or more, an AVX-512 Xeon), so a decoder is
made with a :class:`~intentkg.llm.llama_cpp_step_plan.StepPlan` that keeps every step on one side:
``min_rows`` pads every step to that many rows (idle slots decode a throw-away token, removed after
the step), or, where padding does not hold, the pool gives it no more slots than compute as alone
(:mod:`intentkg.llm.llama_cpp_step_plan`). Rows are laid out in slot order, so a step stays one
micro-batch. :mod:`tests.llm.test_llama_cpp_batched` checks that an answer's tokens and log-probs are
bit for bit the same whatever its batch-mates, its slot and the jobs before it (see docs/generate.md, "Batched
decoding").
"""

from __future__ import annotations

import ctypes
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from intentkg.llm.llama_cpp_jobs import JobQueue
from intentkg.llm.protocol import Completion, SamplingParams

LAST_N_PENALTY = 64  # llama-cpp-python's last_n_tokens_size
DEFAULTS = {"top_k": 40, "min_p": 0.05, "repeat_penalty": 1.0}  # llama-cpp-python's create_completion defaults


@dataclass
class Job:
    """One sample to draw: the prompt as parts (token lists), its parameters and seed."""

    parts: list[list[int]]
    params: SamplingParams
    seed: int

    @property
    def n_prompt(self) -> int:
        return sum(len(p) for p in self.parts)


@dataclass
class _Slot:
    seq: int
    parts: list[list[int]] = field(default_factory=list)  # prompt parts now in this slot's KV stream
    job_index: int | None = None
    job: Job | None = None
    sampler: object = None
    n_past: int = 0
    max_tokens: int = 0
    last: int = 0
    tokens: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    text: bytes = b""


def _shared(held: list[list[int]], parts: list[list[int]]) -> int:
    """How many leading prompt parts (never the last one, which is always evaluated) ``held`` has."""
    kept = 0
    for mine, theirs in zip(held, parts[:-1]):
        if mine != theirs:
            break
        kept += 1
    return kept


def load_model(path: str, n_gpu_layers: int = 0, use_extra_buffers: bool = True, verbose: bool = False):
    """A ``llama_model`` (weights only; contexts are made from it). Unless ``verbose``, llama.cpp's
    loader says nothing (its metadata and tensor dump is ~700 lines on stderr, hiding the progress)."""
    import llama_cpp as lc
    from llama_cpp._logger import set_verbose

    set_verbose(verbose)

    mparams = lc.llama_model_default_params()
    mparams.n_gpu_layers = n_gpu_layers
    if hasattr(mparams, "use_extra_bufts"):
        mparams.use_extra_bufts = use_extra_buffers
    model = lc.llama_model_load_from_file(str(path).encode("utf-8"), mparams)
    if not model:
        raise RuntimeError(f"llama.cpp could not load {path}")
    return model


class BatchedDecoder:
    """A llama.cpp model and one context with ``parallel`` sequences (see the module docstring)."""

    def __init__(self, path: str, parallel: int, n_ctx: int, n_threads: int, n_batch: int = 512,
                 n_gpu_layers: int = 0, use_extra_buffers: bool = True, verbose: bool = False, model=None,
                 min_rows: int = 0):
        """``model``: an already loaded ``llama_model`` to share (several decoders, one copy of the weights;
        the caller frees it after closing them), else the weights at ``path`` are loaded here.
        ``min_rows``: every decode step holds at least that many rows, idle slots padded, and where it is
        above ``parallel`` the context gets streams that only ever hold pads
        (:class:`~intentkg.llm.llama_cpp_step_plan.StepPlan`)."""
        import llama_cpp as lc
        from llama_cpp._logger import set_verbose

        set_verbose(verbose)
        self.lc, self.parallel, self.n_ctx, self.n_batch = lc, parallel, n_ctx, n_batch
        self.min_rows = min_rows
        streams = max(parallel, min_rows)
        self._owns_model = model is None
        self.model = load_model(path, n_gpu_layers, use_extra_buffers, verbose) if model is None else model
        cparams = lc.llama_context_default_params()
        cparams.n_ctx = n_ctx * streams  # one stream of n_ctx cells per sequence
        cparams.n_batch = n_batch
        cparams.n_ubatch = min(n_batch, 512)
        cparams.n_seq_max = streams
        cparams.n_threads = cparams.n_threads_batch = n_threads
        cparams.kv_unified = False
        cparams.flash_attn_type = lc.LLAMA_FLASH_ATTN_TYPE_DISABLED  # as llama-cpp-python's Llama
        cparams.no_perf = True
        self.ctx = lc.llama_init_from_model(self.model, cparams)
        if not self.ctx:
            if self._owns_model:
                lc.llama_model_free(self.model)
            raise RuntimeError(f"llama.cpp could not create a context for {path}")
        self.vocab = lc.llama_model_get_vocab(self.model)
        self.n_vocab = lc.llama_vocab_n_tokens(self.vocab)
        self.add_bos = bool(lc.llama_vocab_get_add_bos(self.vocab))
        self.memory = lc.llama_get_memory(self.ctx)
        self.batch = lc.llama_batch_init(max(n_batch, streams), 0, 1)
        self.slots = [_Slot(seq=i) for i in range(parallel)]
        self._piece_buf = ctypes.create_string_buffer(256)
        self._scratch = np.empty(self.n_vocab, dtype=np.float32)

    # -- text <-> tokens -------------------------------------------------------------------------
    def tokenize(self, text: str, add_bos: bool, special: bool = True) -> list[int]:
        data = text.encode("utf-8")
        size = len(data) + 8
        out = (self.lc.llama_token * size)()
        n = self.lc.llama_tokenize(self.vocab, data, len(data), out, size, add_bos and self.add_bos, special)
        if n < 0:
            size = -n
            out = (self.lc.llama_token * size)()
            n = self.lc.llama_tokenize(self.vocab, data, len(data), out, size, add_bos and self.add_bos, special)
        return list(out[:n])

    def piece(self, token: int) -> bytes:
        n = self.lc.llama_token_to_piece(self.vocab, token, self._piece_buf, len(self._piece_buf), 0, False)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = self.lc.llama_token_to_piece(self.vocab, token, buf, len(buf), 0, False)
            return buf.raw[:n]
        return self._piece_buf.raw[:n]

    # -- decoding --------------------------------------------------------------------------------
    def run(self, jobs: Sequence[Job], queue: "JobQueue | None" = None, worker: int = 0,
            results: list | None = None) -> list[Completion | Exception]:
        """Draw every job; a job that cannot run (prompt too long, decode failure) gets its exception.

        With ``queue`` (several decoders on one job list, :mod:`intentkg.llm.llama_cpp_pool`) this
        decoder takes its jobs from the queue as ``worker`` and writes into the shared ``results``."""
        queue = queue or JobQueue(jobs, 1)
        results = [None] * len(jobs) if results is None else results
        try:
            while not queue.stopped:
                for slot in self.slots:
                    while slot.job is None:
                        index = queue.take(worker)
                        if index is None:
                            break
                        try:
                            self._start(slot, index, jobs[index], results)
                        except (ValueError, RuntimeError) as exc:
                            self._forget(slot)
                            results[index] = exc
                            continue
                        self._share_prompt(slot, jobs, queue, worker, results)
                active = [s for s in self.slots if s.job is not None]
                if not active:
                    break
                rows, pads = self._fill(active)
                failed = self.lc.llama_decode(self.ctx, self.batch) != 0
                for seq, position in pads:  # the throw-away tokens leave the idle slots' streams as they were
                    self.lc.llama_memory_seq_rm(self.memory, seq, position, -1)
                if failed:
                    for slot in active:
                        results[slot.job_index] = RuntimeError("llama_decode failed")
                        self._drop(slot)
                    continue
                for slot, row in zip(active, rows):
                    slot.n_past += 1
                    self._advance(slot, row, results)
        finally:
            for slot in self.slots:
                if slot.job is not None:
                    self._drop(slot)
        return results  # type: ignore[return-value]

    def _share_prompt(self, slot: _Slot, jobs: Sequence[Job], queue: "JobQueue", worker: int, results: list) -> None:
        """Start the next samples of the prompt ``slot`` just evaluated in free slots, without evaluating it
        again: its KV stream is copied bit for bit and each draws its first token from the same logits."""
        parts = jobs[slot.job_index].parts if slot.job is not None else None
        for other in self.slots:
            if parts is None:
                return
            if other.job is not None or other is slot:
                continue
            index = queue.take_same(worker, parts)
            if index is None:
                return
            self.lc.llama_memory_seq_rm(self.memory, other.seq, 0, -1)
            self.lc.llama_memory_seq_cp(self.memory, slot.seq, other.seq, -1, -1)
            other.parts = list(slot.parts)
            self._begin(other, index, jobs[index], slot.n_past)
            self._advance(other, -1, results)

    def _fill(self, active: list[_Slot]) -> tuple[list[int], list[tuple[int, int]]]:
        """Lay out one decode step: a row per active slot, in slot order; with ``min_rows``, the streams
        0 .. max(min_rows, last active + 1) - 1 all get a row, an idle slot's (or a pad-only stream's) a
        throw-away token after its stream's last cell. Returns the active slots' rows and the (sequence,
        position) of each pad."""
        b = self.batch
        if self.min_rows:
            width = max(self.min_rows, active[-1].seq + 1)
            rows, pads, busy = [], [], {slot.seq for slot in active}
            for seq in range(width):
                if seq in busy:
                    slot = self.slots[seq]
                    token, position = slot.last, slot.n_past
                    rows.append(seq)
                else:
                    token, position = self._pad_cell(seq)
                    pads.append((seq, position))
                b.token[seq], b.pos[seq], b.n_seq_id[seq], b.logits[seq] = token, position, 1, 1
                b.seq_id[seq][0] = seq
            b.n_tokens = width
            return rows, pads
        for i, slot in enumerate(active):
            b.token[i], b.pos[i], b.n_seq_id[i], b.logits[i] = slot.last, slot.n_past, 1, 1
            b.seq_id[i][0] = slot.seq
        b.n_tokens = len(active)
        return list(range(len(active))), []

    def _pad_cell(self, seq: int) -> tuple[int, int]:
        """A throw-away token for idle sequence ``seq`` and its position, just after what its stream holds
        (the last cell when the stream is full: what a slot keeps for reuse is a prompt's leading parts,
        always shorter than ``n_ctx`` - 1)."""
        position = int(self.lc.llama_memory_seq_pos_max(self.memory, seq)) + 1
        if position >= self.n_ctx:
            position = self.n_ctx - 1
            self.lc.llama_memory_seq_rm(self.memory, seq, position, -1)
        bos = self.lc.llama_vocab_bos(self.vocab)
        return (bos if bos >= 0 else 0), position

    def _start(self, slot: _Slot, index: int, job: Job, results: list) -> None:
        n_prompt = job.n_prompt
        if n_prompt >= self.n_ctx:
            raise ValueError(f"Requested tokens ({n_prompt}) exceed context window of {self.n_ctx}")
        kept = _shared(slot.parts, job.parts)
        donor = max(self.slots, key=lambda other: _shared(other.parts, job.parts))
        if _shared(donor.parts, job.parts) > kept:  # another slot holds more of the prompt: copy its stream
            kept = _shared(donor.parts, job.parts)
            self.lc.llama_memory_seq_rm(self.memory, slot.seq, 0, -1)
            self.lc.llama_memory_seq_cp(self.memory, donor.seq, slot.seq, -1, -1)
            slot.parts = list(donor.parts)
        position = sum(len(part) for part in job.parts[:kept])
        self.lc.llama_memory_seq_rm(self.memory, slot.seq, position, -1)
        slot.parts = slot.parts[:kept]
        for k, part in enumerate(job.parts[kept:], start=kept):
            last = k == len(job.parts) - 1
            self._eval(slot, part, position, logits_last=last)
            position += len(part)
            if not last:
                slot.parts.append(part)
        self._begin(slot, index, job, position)
        self._advance(slot, -1, results)

    def _begin(self, slot: _Slot, index: int, job: Job, position: int) -> None:
        """Give ``slot`` (its KV stream holding the whole prompt) the job and a fresh sampler."""
        slot.job_index, slot.job, slot.n_past = index, job, position
        slot.max_tokens = min(job.params.max_tokens, self.n_ctx - job.n_prompt)
        slot.tokens, slot.logprobs, slot.text = [], [], b""
        slot.sampler = self._sampler(job.params, job.seed)

    def _eval(self, slot: _Slot, tokens: list[int], position: int, logits_last: bool) -> None:
        """Evaluate one prompt part of one sequence (in n_batch chunks), alone in its decode calls."""
        if not tokens:
            raise ValueError("empty prompt part")
        b = self.batch
        for lo in range(0, len(tokens), self.n_batch):
            chunk = tokens[lo:lo + self.n_batch]
            for i, token in enumerate(chunk):
                b.token[i], b.pos[i], b.n_seq_id[i], b.logits[i] = token, position + lo + i, 1, 0
                b.seq_id[i][0] = slot.seq
            if logits_last and lo + len(chunk) == len(tokens):
                b.logits[len(chunk) - 1] = 1
            b.n_tokens = len(chunk)
            if self.lc.llama_decode(self.ctx, b) != 0:
                raise RuntimeError("llama_decode failed on a prompt part")

    def _advance(self, slot: _Slot, idx: int, results: list) -> None:
        """Draw the slot's next token from the logits at batch row ``idx``; finish the job when it ends."""
        lc, job = self.lc, slot.job
        token = lc.llama_sampler_sample(slot.sampler, self.ctx, idx)
        finish = None
        if lc.llama_vocab_is_eog(self.vocab, token):
            finish = "stop"
        else:
            if job.params.logprobs:
                slot.logprobs.append(self._logprob(idx, token))
            slot.tokens.append(token)
            slot.text += self.piece(token)
            stops = [s.encode("utf-8") for s in job.params.stop if s.encode("utf-8") in slot.text]
            if stops:
                slot.text = slot.text[:slot.text.index(stops[0])]
                finish = "stop"
            elif len(slot.tokens) >= slot.max_tokens:
                finish = "length"
        if finish is None:
            slot.last = token
            return
        results[slot.job_index] = self._completion(slot, finish)
        self._drop(slot)

    def _logprob(self, idx: int, token: int) -> float:
        """Log-softmax of ``token`` under the raw logits at batch row ``idx``."""
        pointer = self.lc.llama_get_logits_ith(self.ctx, idx)
        if not pointer:
            return float("nan")
        values = np.ctypeslib.as_array(pointer, shape=(self.n_vocab,))
        peak = float(values.max())
        np.subtract(values, peak, out=self._scratch)
        total = float(np.exp(self._scratch, out=self._scratch).sum())
        return float(values[token]) - peak - math.log(total)

    def _completion(self, slot: _Slot, finish: str) -> Completion:
        text = slot.text.decode("utf-8", errors="ignore")
        completion = Completion(text=text, finish_reason=finish, prompt_tokens=slot.job.n_prompt,
                                completion_tokens=len(slot.tokens))
        if slot.job.params.logprobs and slot.tokens:
            logprobs, offsets, done = [], [], b""
            for token, lp in zip(slot.tokens, slot.logprobs):
                start = len(done.decode("utf-8", errors="ignore"))
                if start >= len(text):
                    break
                offsets.append(start)
                logprobs.append(lp)
                done += self.piece(token)
            completion.token_logprobs, completion.token_offsets = logprobs, offsets
        return completion

    def _forget(self, slot: _Slot) -> None:
        """Empty a slot's KV stream (after a failed start its contents are unknown)."""
        self._drop(slot)
        self.lc.llama_memory_seq_rm(self.memory, slot.seq, 0, -1)
        slot.parts = []

    def _drop(self, slot: _Slot) -> None:
        if slot.sampler is not None:
            self.lc.llama_sampler_free(slot.sampler)
        slot.sampler, slot.job, slot.job_index = None, None, None

    def _sampler(self, params: SamplingParams, seed: int):
        lc = self.lc
        chain = lc.llama_sampler_chain_init(lc.llama_sampler_chain_default_params())
        value = {k: getattr(params, k) if getattr(params, k) is not None else d for k, d in DEFAULTS.items()}
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_penalties(
            self.n_vocab, LAST_N_PENALTY, value["repeat_penalty"], 0.0, 0.0))
        if params.temperature <= 0:
            lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_greedy())
            return chain
        for sampler in (lc.llama_sampler_init_top_k(value["top_k"]), lc.llama_sampler_init_typical(1.0, 1),
                        lc.llama_sampler_init_top_p(params.top_p, 1), lc.llama_sampler_init_min_p(value["min_p"], 1),
                        lc.llama_sampler_init_temp(params.temperature), lc.llama_sampler_init_dist(seed)):
            lc.llama_sampler_chain_add(chain, sampler)
        return chain

    def close(self) -> None:
        lc = self.lc
        for slot in self.slots:
            self._drop(slot)
        if getattr(self, "batch", None) is not None:
            lc.llama_batch_free(self.batch)
            self.batch = None
        if getattr(self, "ctx", None):
            lc.llama_free(self.ctx)
            self.ctx = None
        if getattr(self, "model", None) and self._owns_model:
            lc.llama_model_free(self.model)
        self.model = None


def prompt_cuts(prompt: str, splits: Sequence[int]) -> list[int]:
    """Where a plain prompt is cut into parts: its ``prefix_splits``, else after its last blank line."""
    cuts = [c for c in sorted(set(splits)) if 0 < c < len(prompt)]
    if not cuts:
        blank = prompt.rfind("\n\n") + 2
        cuts = [blank] if 2 <= blank < len(prompt) else []
    return cuts


class ChatPrompts:
    """Chat messages -> prompt text and stops with the GGUF's own chat template (as llama-cpp-python's
    ``chat_template.default`` handler renders it)."""

    def __init__(self, decoder: BatchedDecoder):
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        lc = decoder.lc
        template = _meta(decoder, b"tokenizer.chat_template")
        if not template:
            raise ValueError("the model has no chat template: give plain prompts")

        def text(token: int) -> str:
            return lc.llama_vocab_get_text(decoder.vocab, token).decode("utf-8") if token != -1 else ""

        eos, bos = lc.llama_vocab_eos(decoder.vocab), lc.llama_vocab_bos(decoder.vocab)
        self.formatter = Jinja2ChatFormatter(template=template, eos_token=text(eos), bos_token=text(bos),
                                             stop_token_ids=[eos])

    def render(self, messages: Sequence[dict]) -> tuple[str, list[str], bool]:
        """(prompt, extra stop strings, whether the template already added BOS)."""
        result = self.formatter(messages=[dict(m) for m in messages])
        stop = result.stop if isinstance(result.stop, list) else [result.stop] if result.stop else []
        return result.prompt, stop, bool(result.added_special)


def _meta(decoder: BatchedDecoder, key: bytes) -> str | None:
    lc = decoder.lc
    size = 1 << 16
    while True:
        buf = ctypes.create_string_buffer(size)
        n = lc.llama_model_meta_val_str(decoder.model, key, buf, size)
        if n < 0:
            return None
        if n < size:
            return buf.value.decode("utf-8")
        size = n + 1
