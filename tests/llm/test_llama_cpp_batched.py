"""Batched decoding in the llama.cpp backend, with the bundled Gemma GGUF (short, bounded calls)."""

from __future__ import annotations

import math
from functools import lru_cache

import pytest

from helpers.llm_models import FEWSHOT_HEAD, QUESTIONS
from intentkg.errors import ConfigError
from intentkg.generate.request_cache import request_key
from intentkg.llm.llama_cpp import LlamaCppBackend
from intentkg.llm.llama_cpp_batched import BatchedDecoder, Job
from intentkg.llm.protocol import Request, SamplingParams, sample_seed

PARAMS = SamplingParams(temperature=0.8, top_p=0.95, max_tokens=8, n=1, seed=5, stop=("\n\n", "Question:", "\n4."))
# A batch-mate of ~400 tokens: while it runs, every decode step attends over 512 KV cells instead of 256.
LONG = FEWSHOT_HEAD * 8 + QUESTIONS[0]


@lru_cache(maxsize=None)
def batched(parallel: int, workers: int = 1) -> LlamaCppBackend:
    backend = LlamaCppBackend(model="gemma3-270m", n_ctx=1024, parallel=parallel, n_threads=1, workers=workers)
    backend.load()
    return backend


def _requests() -> list[Request]:
    two = SamplingParams(**{**PARAMS.as_dict(), "stop": PARAMS.stop, "n": 2})
    requests = [Request(key=f"q{i}", params=PARAMS, prompt=FEWSHOT_HEAD + q) for i, q in enumerate(QUESTIONS)]
    requests.append(Request(key="two-samples", params=two, prompt=FEWSHOT_HEAD + QUESTIONS[1]))
    requests.append(Request(key="long", params=PARAMS, prompt=LONG))
    return requests


def _answers(results):
    assert all(r.error is None for r in results), [r.error for r in results]
    return [[(c.text, c.finish_reason, c.completion_tokens, c.token_logprobs) for c in r.completions] for r in results]


@pytest.fixture(scope="module")
def together():
    """All requests in one call of a 4-slot decoder: 5 sequences share decode steps, slots are refilled."""
    return batched(4).generate(_requests())


def test_an_answer_does_not_depend_on_its_batch_mates_slot_history_parallel_or_worker(together):
    """Bit for bit: alone (after other jobs in its slot), and in reverse order on two workers of 2 slots
    instead of one of 4 (fails with extra buffers on:
    the repacked kernels compute a sequence differently when 4+ sequences share a step)."""
    requests = _requests()
    expected = _answers(together)
    alone = [_answers(batched(4).generate([r]))[0] for r in requests]
    assert alone == expected
    assert _answers(batched(2, workers=2).generate(requests[::-1]))[::-1] == expected
    first = together[0].completions[0]
    assert first.text.strip() and first.finish_reason in ("stop", "length") and 0 < first.completion_tokens <= 8
    assert together[2].completions[0].text != together[2].completions[1].text or \
        together[2].completions[0].token_logprobs != together[2].completions[1].token_logprobs  # own seed per sample


def test_samples_of_one_prompt_share_its_evaluation_and_draw_what_they_would_alone(together):
    """The second sample copies the first one's KV stream and logits instead of evaluating the prompt
    again (old code: the prompt's last part was evaluated once per sample); its answer is the one a
    decoder with a single slot, which must evaluate the prompt for each sample, draws."""
    backend, request = batched(4), _requests()[2]
    decoder = backend.decoder
    parts, params = backend._job_prompt(decoder, request)
    evaluated, original = [], decoder._eval
    decoder._eval = lambda slot, tokens, *args, **kwargs: (evaluated.append(tokens), original(slot, tokens, *args,
                                                                                               **kwargs))[1]
    try:
        shared = _answers(backend.generate([request]))[0]
    finally:
        del decoder._eval
    assert evaluated.count(parts[-1]) == 1 and shared == _answers(together)[2]
    lone = BatchedDecoder(str(backend.path), 1, 1024, 1, use_extra_buffers=False, model=backend.pool.model,
                          min_rows=backend.pool.min_rows)  # steps shaped as the pool's
    try:
        alone = [lone.run([Job(parts, params, sample_seed(request.key, i))])[0] for i in range(2)]
    finally:
        lone.close()
    assert [(c.text, c.finish_reason, c.completion_tokens, c.token_logprobs) for c in alone] == shared


def test_an_answer_is_the_same_in_a_full_decoder_as_alone():
    """Ten different prompts on the default 8 slots: each answer is bit for bit its answer alone. Before
    the pool planned its decode steps, this failed on an AVX-512 Xeon: once 8 sequences shared a step,
    llama.cpp computed each of them otherwise (log-probs moved by ~0.04 nats), so an answer depended on
    how many batch-mates it had."""
    backend = batched(8)
    requests = [Request(key=f"full{i}", params=PARAMS, prompt=FEWSHOT_HEAD * (1 + i % 3) + QUESTIONS[i % len(QUESTIONS)])
                for i in range(10)]
    together = _answers(backend.generate(requests))
    alone = [_answers(backend.generate([r]))[0] for r in requests]
    assert alone == together
    assert 1 <= backend.pool.parallel <= backend.pool.requested_parallel == 8
    assert all(len(d.slots) == backend.pool.parallel for d in backend.pool.decoders)
    # what the generate stage records and prints
    assert backend.decode_slots == (backend.pool.parallel, 8, backend.pool.min_rows)


def test_every_decode_step_has_the_planned_shape():
    """Padded (the AVX-512 Xeon's plan: 8 rows): every step of a 2-slot decoder holds the planned rows,
    with idle slots and pad-only streams in sequence order, and the pads leave no trace (a slot's kept
    prompt parts still give the same answer). Capped: no step holds more rows than the decoder's slots."""
    backend = batched(2)
    decoder, pool = backend.decoder, backend.pool
    widths, original = [], decoder.lc.llama_decode

    def decode(ctx, batch):
        if batch.logits[0] and all(batch.logits[i] for i in range(batch.n_tokens)):  # a step, not a prompt part
            widths.append([batch.seq_id[i][0] for i in range(batch.n_tokens)])
        return original(ctx, batch)

    requests = _requests()[:3]
    decoder.lc.llama_decode = decode
    try:
        first = _answers(backend.generate(requests))
    finally:
        decoder.lc.llama_decode = original
    assert widths
    if pool.min_rows:
        assert all(seqs == list(range(max(pool.min_rows, seqs[-1] + 1))) for seqs in widths)
        assert len(decoder.slots) == 2 and pool.min_rows > 2  # pad-only streams beyond the slots
    else:
        assert all(len(seqs) <= pool.parallel for seqs in widths)
    assert _answers(backend.generate(requests)) == first  # slots now hold these prompts' parts: reused


def test_the_slot_check_fits_a_small_context():
    """The check's prompts are cut to the context: a backend with a tiny n_ctx still loads and answers."""
    backend = LlamaCppBackend(model="gemma3-270m", n_ctx=16, parallel=4, n_threads=1, workers=1)
    try:
        backend.load()
        params = SamplingParams(temperature=0.0, max_tokens=3, stop=())
        result = backend.generate([Request(key="tiny", params=params, prompt="Hi")])[0]
        assert result.error is None and result.completions[0].completion_tokens >= 1
        assert 1 <= backend.decode_slots[0] <= 4 and backend.decode_slots[1] == 4
    finally:
        backend.close()


def test_stops_lengths_and_logprobs_follow_the_single_stream_rules(together):
    for result in together:
        for c in result.completions:
            assert not any(s in c.text for s in PARAMS.stop)
            assert c.completion_tokens <= PARAMS.max_tokens
            assert c.finish_reason == "stop" if c.completion_tokens < PARAMS.max_tokens else c.finish_reason in (
                "stop", "length")  # the last token may complete a stop sequence
            assert len(c.token_logprobs) == len(c.token_offsets) >= 1 and c.token_offsets[0] == 0
            assert c.token_offsets == sorted(c.token_offsets) and all(o < len(c.text) for o in c.token_offsets)
            assert all(lp <= 0 and math.isfinite(lp) for lp in c.token_logprobs)
    assert together[-1].completions[0].prompt_tokens > 256


def test_greedy_answer_and_logprobs_match_llama_cpp_pythons_own():
    """Against llama-cpp-python's Llama with the same weight layout (no extra buffers: the repacked
    kernels move this model's log-probs by up to 0.2 nats)."""
    from llama_cpp import Llama

    from intentkg.llm.llama_cpp_compat import model_params_patch

    backend = batched(2)
    prompt, params = "The capital of France is", SamplingParams(temperature=0.0, max_tokens=6, stop=())
    request = Request(key="greedy", params=params, prompt=prompt)
    # steps of one row, as llama-cpp-python decodes: a padded step computes rows otherwise (see the plan)
    lone = BatchedDecoder(str(backend.path), 1, 1024, 1, use_extra_buffers=False, model=backend.pool.model)
    try:
        parts, job_params = backend._job_prompt(lone, request)
        ours = lone.run([Job(parts, job_params, sample_seed(request.key, 0))])[0]
    finally:
        lone.close()
    with model_params_patch(False):
        reference = Llama(model_path=str(backend.path), n_ctx=64, n_threads=1, logits_all=True, verbose=False)
    try:
        out = reference.create_completion(prompt, max_tokens=6, temperature=0.0, logprobs=1)["choices"][0]
    finally:
        reference.close()
    assert ours.text == out["text"] and ours.finish_reason == "length"
    assert ours.token_logprobs == pytest.approx([float(x) for x in out["logprobs"]["token_logprobs"]], abs=1e-4)
    assert ours.token_offsets == [o - len(prompt) for o in out["logprobs"]["text_offset"]]


def test_a_prompt_longer_than_the_context_fails_alone_and_the_rest_are_answered():
    requests = [Request(key="too-long", params=PARAMS, prompt="word " * 3000), _requests()[0]]
    results = batched(2).generate(requests)
    assert results[0].error and "context" in results[0].error and results[0].completions == []
    assert results[1].error is None and results[1].completions[0].text.strip()


def test_batched_answers_have_their_own_cache_keys_and_single_stream_keys_are_unchanged():
    single = LlamaCppBackend(model="gemma3-270m", parallel=1)
    assert single.info().decoding is None and single.preferred_batch_size == 1
    assert batched(4).info().decoding == "batched" and batched(4).preferred_batch_size == 16
    assert batched(2, workers=2).preferred_batch_size == 16  # 4 x parallel per worker
    old = request_key(single.info(), "p", None, PARAMS)
    assert request_key(batched(4).info(), "p", None, PARAMS) != old
    assert request_key(batched(2, 2).info(), "p", None, PARAMS) == request_key(batched(4).info(), "p", None, PARAMS)
    # the single-stream key is the content hash it always was (no decoding field)
    from intentkg.workspace.fingerprint import hash_json
    info = single.info()
    assert old == hash_json({"model_id": info.model_id, "model_hash": info.model_hash, "prompt_kind": "text",
                             "prompt": "p", "params": PARAMS.as_dict()})
    with pytest.raises(ConfigError, match="parallel"):
        LlamaCppBackend(model="gemma3-270m", parallel=0)
    with pytest.raises(ConfigError, match="workers=2.*parallel > 1"):
        LlamaCppBackend(model="gemma3-270m", parallel=1, workers=2)


@pytest.mark.slow
def test_chat_messages_are_batched_with_the_models_own_template():
    backend = LlamaCppBackend(model="smollm2-135m-instruct", n_ctx=512, parallel=2)
    try:
        messages = ({"role": "system", "content": "Answer with a numbered list of three short phrases."},
                    {"role": "user", "content": 'A customer bought "tent" and "sleeping bag". Why?'})
        params = SamplingParams(max_tokens=12, seed=1, temperature=0.7)
        requests = [Request(key=f"chat{i}", params=params, messages=messages) for i in range(3)]
        first = backend.generate(requests)
        again = backend.generate(requests[:1])
        assert all(r.error is None and r.completions[0].text.strip() for r in first)
        assert again[0].completions[0].text == first[0].completions[0].text
        assert "<|im_end|>" not in first[0].completions[0].text
    finally:
        backend.close()


def test_loading_the_batched_backend_keeps_llama_cpps_loader_dump_off_stderr():
    """Before 8 Dec the pool loaded the weights before any decoder silenced llama.cpp's logger, so a
    fresh process (the quickstart's catalogue stage) printed ~700 lines of metadata and tensor names
    over its progress output."""
    import subprocess
    import sys

    code = ("from intentkg.llm.llama_cpp import LlamaCppBackend\n"
            "from intentkg.llm.protocol import Request, SamplingParams\n"
            "b = LlamaCppBackend(model='gemma3-270m', n_ctx=256, parallel=2, n_threads=1, workers=1)\n"
            "b.load()\n"
            "[r] = b.generate([Request(key='k', params=SamplingParams(temperature=0.0, max_tokens=4),"
            " prompt='A tent is used for')])\n"
            "assert r.error is None, r.error\n"
            "print('answered:', r.completions[0].text)\n"
            "b.close()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "answered:" in proc.stdout
    assert "llama_model_loader" not in proc.stderr and "create_tensor" not in proc.stderr, proc.stderr[:500]
    assert len(proc.stderr.splitlines()) < 20, proc.stderr[-1500:]
