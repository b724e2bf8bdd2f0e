"""The OpenAI-compatible backend: protocol details on a mock transport, then a real local server."""

from __future__ import annotations

import json
import os

import httpx
import pytest

from helpers.llm_models import FEWSHOT_HEAD, QUESTIONS
from intentkg.errors import ConfigError
from intentkg.llm.openai_compatible import OpenAICompatibleBackend
from intentkg.llm.protocol import Request, SamplingParams, sample_seed

PARAMS = SamplingParams(temperature=0.7, top_p=0.9, max_tokens=12, n=2, seed=3, stop=("\n\n",))


def _backend(handler, **options) -> OpenAICompatibleBackend:
    backend = OpenAICompatibleBackend(model="m", base_url="http://test/v1", backoff=0.001, **options)
    backend.transport = httpx.MockTransport(handler)
    return backend


def _completion_answer(body):
    return {"choices": [{"text": f" seed {body['seed']}\n2. b", "finish_reason": "stop",
                         "logprobs": {"tokens": [" seed", f" {body['seed']}", "\n", "2", ".", " b"],
                                      "token_logprobs": [-0.1, -0.2, -0.3, -0.4, -0.5, -0.6]}}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 6}}


def test_plain_prompts_use_completions_one_seeded_call_per_sample():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append((request.url.path, body))
        return httpx.Response(200, json=_completion_answer(body))

    result = _backend(handler).generate([Request(key="k", params=PARAMS, prompt="P")])[0]
    assert {path for path, _ in seen} == {"/v1/completions"}
    assert sorted(b["seed"] for _, b in seen) == sorted(sample_seed("k", i) for i in range(2))
    body = seen[0][1]
    assert body["prompt"] == "P" and body["n"] == 1 and body["logprobs"] == 1 and body["stop"] == ["\n\n"]
    assert body["max_tokens"] == 12 and body["temperature"] == 0.7 and "top_k" not in body
    texts = [c.text for c in result.completions]
    assert texts == [f" seed {sample_seed('k', i)}\n2. b" for i in range(2)]  # samples stay in order
    first = result.completions[0]
    assert first.token_offsets[:3] == [0, 5, 5 + len(str(sample_seed("k", 0))) + 1]
    assert first.token_logprobs[0] == -0.1 and first.prompt_tokens == 7 and first.finish_reason == "stop"


def test_chat_messages_use_chat_completions_and_read_content_logprobs():
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert request.url.path == "/v1/chat/completions" and body["logprobs"] is True
        assert body["messages"] == [{"role": "user", "content": "hi"}]
        assert request.headers["authorization"] == "Bearer sekrit"
        return httpx.Response(200, json={"choices": [{"message": {"role": "assistant", "content": "1. x"},
                                                      "finish_reason": "length",
                                                      "logprobs": {"content": [{"token": "1", "logprob": -1.0},
                                                                               {"token": ".", "logprob": -0.5},
                                                                               {"token": " x", "logprob": -2.0}]}}]})

    os.environ["INTENTKG_TEST_KEY"] = "sekrit"
    backend = _backend(handler, api_key_env="INTENTKG_TEST_KEY")
    params = SamplingParams(max_tokens=5, n=1)
    result = backend.generate([Request(key="c", params=params, messages=({"role": "user", "content": "hi"},))])[0]
    c = result.completions[0]
    assert c.text == "1. x" and c.finish_reason == "length" and c.token_offsets == [0, 1, 2]
    assert "sekrit" not in repr(backend.info())


def test_retries_with_backoff_on_rate_limits_server_errors_and_timeouts():
    attempts = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        attempts["n"] += 1
        if attempts["n"] == 1:
            return httpx.Response(429, headers={"retry-after": "0"}, text="slow down")
        if attempts["n"] == 2:
            return httpx.Response(503, text="warming up")
        if attempts["n"] == 3:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, json=_completion_answer(json.loads(request.content)))

    params = SamplingParams(max_tokens=4, n=1)
    result = _backend(handler, retries=3).generate([Request(key="r", params=params, prompt="P")])[0]
    assert result.error is None and attempts["n"] == 4


def test_permanent_errors_and_exhausted_retries_become_failed_results():
    def bad_request(request):
        return httpx.Response(400, text="unknown parameter top_q")

    def always_down(request):
        return httpx.Response(502, text="bad gateway")

    params = SamplingParams(max_tokens=4, n=1)
    requests = [Request(key="a", params=params, prompt="P"), Request(key="b", params=params, prompt="Q")]
    results = _backend(bad_request).generate(requests)
    assert [r.key for r in results] == ["a", "b"]
    assert all("HTTP 400" in r.error and "unknown parameter top_q" in r.error for r in results)
    results = _backend(always_down, retries=2).generate(requests[:1])
    assert "HTTP 502" in results[0].error
    garbage = _backend(lambda r: httpx.Response(200, text="<html>")).generate(requests[:1])
    assert "unexpected answer" in garbage[0].error


def test_concurrency_is_bounded():
    state = {"now": 0, "peak": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        import asyncio

        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
        await asyncio.sleep(0.01)
        state["now"] -= 1
        return httpx.Response(200, json=_completion_answer(json.loads(request.content)))

    params = SamplingParams(max_tokens=4, n=3)
    requests = [Request(key=f"k{i}", params=params, prompt="P") for i in range(10)]
    results = _backend(handler, concurrency=4).generate(requests)
    assert [r.key for r in results] == [r.key for r in requests] and all(len(r.completions) == 3 for r in results)
    assert state["peak"] == 4


def test_works_when_called_from_inside_an_event_loop():
    import asyncio

    backend = _backend(lambda r: httpx.Response(200, json=_completion_answer(json.loads(r.content))))

    async def caller():
        return backend.generate([Request(key="k", params=SamplingParams(n=1), prompt="P")])

    assert asyncio.run(caller())[0].error is None


def test_configuration_errors():
    with pytest.raises(ConfigError, match="INTENTKG_NOT_SET"):
        OpenAICompatibleBackend(model="m", api_key_env="INTENTKG_NOT_SET")
    with pytest.raises(ConfigError, match="concurrency"):
        OpenAICompatibleBackend(model="m", concurrency=0)
    assert OpenAICompatibleBackend(model="m").info().model_hash == "remote:m"
    assert OpenAICompatibleBackend(model="m", model_hash="abc").info().model_hash == "abc"


# ------------------------------------------------------------- a real server -----------
# (the `llama_server` fixture: tests/helpers/llama_server.py)
@pytest.mark.slow
def test_real_llama_cpp_server_answers(llama_server):
    backend = OpenAICompatibleBackend(model="gemma", base_url=llama_server, chat=False, concurrency=2, timeout=300)
    params = SamplingParams(temperature=0.8, top_p=0.95, max_tokens=10, n=1, seed=11, stop=("\n\n", "Question:"))
    requests = [Request(key=f"srv-{i}", params=params, prompt=FEWSHOT_HEAD + q) for i, q in enumerate(QUESTIONS)]
    first = backend.generate(requests)
    assert [r.error for r in first] == [None, None]
    assert all(len(r.completions) == 1 and r.completions[0].text.strip() for r in first)
    # (no equality check across calls: the server reuses its KV cache between requests, and llama.cpp's
    # last bits depend on how a prompt is cut into batches, so a server need not repeat itself exactly)
    c = first[0].completions[0]
    assert c.prompt_tokens > 40 and 0 < c.completion_tokens <= 10 and c.finish_reason in ("stop", "length")
    assert c.token_logprobs and all(lp <= 0 for lp in c.token_logprobs) and c.token_offsets[0] == 0
