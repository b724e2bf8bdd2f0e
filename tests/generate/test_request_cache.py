from __future__ import annotations

from intentkg.generate.request_cache import RequestCache, request_key
from intentkg.llm.protocol import Completion, ModelInfo, Request, Result, SamplingParams

MODEL = ModelInfo(backend="fake", model_id="m", model_hash="abc", chat=False)


def _request(prompt: str, **params) -> Request:
    p = SamplingParams(**params)
    return Request(key=request_key(MODEL, prompt, None, p), params=p, prompt=prompt)


def test_key_covers_model_prompt_params_and_seed():
    base = _request("hello").key
    assert _request("hello").key == base
    assert _request("hello!").key != base
    assert _request("hello", seed=1).key != base
    assert _request("hello", temperature=0.1).key != base
    other = ModelInfo(backend="fake", model_id="m", model_hash="abd", chat=False)
    assert request_key(other, "hello", None, SamplingParams()) != base
    assert request_key(MODEL, None, [{"role": "user", "content": "hello"}], SamplingParams()) != base


def test_append_only_round_trip_and_call_log(tmp_path):
    a, b = _request("a"), _request("b")
    with RequestCache(tmp_path) as cache:
        done = [Result(a.key, [Completion("1. x", "stop", 3, 2, [-0.5, -0.1], [0, 2])]), Result(b.key, error="boom")]
        assert cache.put_many(MODEL, [a, b], done, run_id="r1") == 1  # errors are never cached
        assert cache.known([a.key, b.key]) == {a.key}
        again = [Result(a.key, [Completion("different")])]
        cache.put_many(MODEL, [a], again, run_id="r2")  # insert-or-ignore: the first answer stays
    with RequestCache(tmp_path) as cache:  # a second process sees the committed rows
        got = cache.get_many([a.key, b.key])
        assert list(got) == [a.key] and got[a.key][0].text == "1. x" and got[a.key][0].token_offsets == [0, 2]
        assert cache.count() == 1 and cache.calls() == (2, 1)  # two calls logged for one key: a repeat


def test_many_keys_are_looked_up_in_chunks(tmp_path):
    requests = [_request(str(i)) for i in range(1200)]
    with RequestCache(tmp_path) as cache:
        cache.put_many(MODEL, requests, [Result(r.key, [Completion(str(i))]) for i, r in enumerate(requests)])
        assert len(cache.known(r.key for r in requests)) == 1200
        assert cache.get_many([requests[1100].key])[requests[1100].key][0].text == "1100"
