"""Worker shards of the request cache: seen by every worker, folded into the main file once."""

from __future__ import annotations

from intentkg.generate.request_cache import RequestCache, known_anywhere, shard_paths
from intentkg.llm.protocol import Completion, ModelInfo, Request, Result, SamplingParams

MODEL = ModelInfo(backend="test", model_id="m", model_hash="h", chat=False)


def _put(cache: RequestCache, keys: list[str]) -> None:
    requests = [Request(key=k, params=SamplingParams(), prompt=f"prompt {k}") for k in keys]
    cache.put_many(MODEL, requests, [Result(k, [Completion(text=f"answer {k}")]) for k in keys], run_id="r")


def test_shards_fold_into_the_main_file_once(tmp_path):
    with RequestCache(tmp_path, shard="w1") as one, RequestCache(tmp_path, shard="w2") as two:
        _put(one, ["a", "b"])
        _put(two, ["c"])
    assert known_anywhere(tmp_path, ["a", "c", "z"]) == {"a", "c"}
    with RequestCache(tmp_path) as main:
        assert main.merge_shards() == 3
        assert main.get_many(["a", "b", "c"])["c"][0].text == "answer c"
        assert main.calls() == (3, 3)
        assert shard_paths(tmp_path) == []
        assert main.merge_shards() == 0


def test_a_merge_killed_before_deleting_its_shard_does_not_count_its_calls_twice(tmp_path):
    with RequestCache(tmp_path, shard="w1") as one:
        _put(one, ["a", "b"])
    shard = shard_paths(tmp_path)[0]
    with RequestCache(tmp_path) as main:
        main._merge_one(shard)  # the transaction committed, then the process died: the file is still there
        assert shard_paths(tmp_path) == [shard]
        main.merge_shards()
        assert main.calls() == (2, 2) and main.count() == 2
