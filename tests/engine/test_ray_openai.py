"""``--engine ray`` generation against a real OpenAI-compatible server on 127.0.0.1 (llama-cpp-python's
server with the bundled Gemma 3 270M): the Ray tasks call it through the ``openai`` backend, as the
local engine does, and write the local engine's candidates; a re-run calls the server for nothing."""

from __future__ import annotations

import httpx
import pytest

from intentkg.generate import GenerateConfig, run_generate
from intentkg.generate.request_cache import RequestCache
from intentkg.ingest import run_ingest
from intentkg.ingest.demo import demo_config
from intentkg.workspace import Workspace

CALLS = 3  # three behaviours, one relation, one sample each


def _config(server: str, engine) -> GenerateConfig:
    return GenerateConfig.model_validate({
        "selection": {"limit": CALLS}, "relations": ["used_for_function"], "batch_size": 1,
        # no logprobs: llama-cpp-python's server takes ~7 s more a call for them (9.4 s against 2.2 s)
        "sampling": {"max_tokens": 16, "temperature": 0.0, "seed": 3, "logprobs": False},
        "few_shot": {"per_prompt": 1, "rotate": False},  # one shared example: the server reuses its KV cache
        "backend": {"name": "openai", "model": "gemma",
                    "options": {"base_url": server, "chat": False, "concurrency": 1, "timeout": 120}},
        "engine": engine})


def _same_server_state(server: str) -> None:
    """llama-cpp-python's server keeps the last prompt's KV cache and evaluates only the part of the
    next prompt after their common prefix; llama.cpp's last bits depend on how a prompt is cut into
    batches, so an answer depends on the request before it. One fixed request before each run puts
    the server in the same state, and the runs then send the same calls in the same order."""
    answer = httpx.post(f"{server}/completions", json={"model": "gemma", "prompt": "Reset.", "max_tokens": 1,
                                                       "temperature": 0.0}, timeout=60)
    answer.raise_for_status()


@pytest.mark.slow
def test_ray_tasks_calling_a_server_write_the_local_candidates_and_repeat_no_call(ray_cluster, llama_server, tmp_path):
    local, ray = tmp_path / "local", tmp_path / "ray"
    for root in (local, ray):
        run_ingest(demo_config(), root)
    _same_server_state(llama_server)
    first = run_generate(_config(llama_server, "local"), local)
    _same_server_state(llama_server)
    on_ray = run_generate(_config(llama_server, {"name": "ray", "workers": 1}), ray)
    assert first.counts["backend_calls"] == on_ray.counts["backend_calls"] == CALLS
    assert on_ray.counts["engine"] == "ray" and on_ray.counts["failed_calls"] == 0
    expected, got = Workspace(local).read("generate", "candidates"), Workspace(ray).read("generate", "candidates")
    assert got.num_rows == expected.num_rows >= CALLS
    assert got.equals(expected)  # same rows, same order, same values

    again = run_generate(_config(llama_server, {"name": "ray", "workers": 1}), ray, force=True)
    assert again.counts["backend_calls"] == 0 and again.counts["cache_hits"] == CALLS
    with RequestCache(ray / ".cache" / "llm") as cache:
        assert cache.calls() == (CALLS, CALLS)  # every call logged once: none repeated
    assert Workspace(ray).read("generate", "candidates").equals(expected)
