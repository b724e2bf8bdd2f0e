"""The decode-step plan of the batched llama.cpp decoder, with the bundled Gemma GGUF."""

from __future__ import annotations

import numpy as np
import pytest

from intentkg.llm import bundled
from intentkg.llm.llama_cpp_batched import BatchedDecoder, load_model
from intentkg.llm.llama_cpp_step_plan import PROBE_SLOTS, StepPlan, plan_steps


@pytest.fixture(scope="module")
def model():
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    loaded = load_model(str(bundled.resolve(bundled.GEMMA)), 0, False)
    yield loaded
    import llama_cpp

    llama_cpp.llama_model_free(loaded)


def _plan(model, parallel: int) -> StepPlan:
    probe = BatchedDecoder("bundled", max(parallel, PROBE_SLOTS), 512, 1, use_extra_buffers=False, model=model)
    try:
        return plan_steps(probe, parallel)
    finally:
        probe.close()


def test_the_plan_does_not_depend_on_parallel_and_keeps_its_promise(model):
    """The same padding for 2 and 8 slots; and the plan's claim checked on steps it did not probe: a row
    decoded in steps of every width the plan allows, with other batch-mates, has the same logits."""
    two, eight = _plan(model, 2), _plan(model, 8)
    assert two.min_rows == eight.min_rows and eight.slots <= 8 and two.slots <= 2
    assert two.min_rows == 0 or 2 <= two.min_rows <= PROBE_SLOTS
    decoder = BatchedDecoder("bundled", 10, 256, 1, use_extra_buffers=False, model=model)
    lc = decoder.lc
    try:
        ends = []
        for i, slot in enumerate(decoder.slots):
            tokens = decoder.tokenize(f"Shoppers who buy item {i * 7} also " * (1 + i % 4), add_bos=True)
            decoder._eval(slot, tokens, 0, logits_last=True)
            ends.append(len(tokens))
        low = eight.min_rows or 1
        high = 10 if eight.min_rows else eight.slots
        rows = []
        for width in range(low, high + 1):
            b = decoder.batch
            for row in range(width):
                lc.llama_memory_seq_rm(decoder.memory, row, ends[row], -1)
                b.token[row], b.pos[row], b.n_seq_id[row], b.logits[row] = 42 + row, ends[row], 1, 1
                b.seq_id[row][0] = row
            b.n_tokens = width
            assert lc.llama_decode(decoder.ctx, b) == 0
            rows.append(np.ctypeslib.as_array(lc.llama_get_logits_ith(decoder.ctx, 0), shape=(decoder.n_vocab,)).copy())
        assert len(rows) >= 2 or eight.slots == 1
        assert all(np.array_equal(r, rows[0]) for r in rows)  # row 0 alike with 0 .. 9 batch-mates in range
    finally:
        decoder.close()
