"""The serving loop as a user runs it, end to end with real parts: `intentkg serve precompute`,
`intentkg serve run` (a real uvicorn process on 127.0.0.1), a miss that is queued, `intentkg serve
refresh` generating knowledge for it with the bundled Gemma through llama.cpp and the real filter
stage, then the same request as a hit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from helpers.kg_workspace import make_workspace

from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig

ON_DEMAND = """
generate:
  backend: {name: llama_cpp, model: gemma3-270m}
  relations: [used_for_event, used_for_audience]
  sampling: {temperature: 0.0, max_tokens: 32, seed: 0}
filter:
  completeness: {scorer: generation}
  similarity: {enabled: false}
  dedup: {semantic: false}
  thresholds: {min_completeness: null, max_input_similarity: null, min_plausibility: null}
"""


def _cli(*args, timeout=600):
    env = dict(os.environ, INTENTKG_NO_PROGRESS="1", OMP_WAIT_POLICY="PASSIVE")
    return subprocess.run([sys.executable, "-m", "intentkg.cli.main", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=timeout)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_precompute_run_miss_refresh_hit(tmp_path):
    ws = make_workspace(tmp_path)
    run_build(ws, BuildConfig(hierarchy=False))
    result = _cli("serve", "precompute", "-w", ws.root)
    assert result.returncode == 0, result.stderr
    port = _port()
    server = subprocess.Popen([sys.executable, "-m", "intentkg.cli.main", "serve", "run", "-w", str(ws.root),
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1/knowledge/query"
    try:
        for _ in range(200):
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert httpx.get(url, params={"q": "winter camping gear"}).json()["outcome"] == "hit"
        miss = httpx.get(url, params={"q": "yoga mat for hot yoga classes"}).json()
        assert miss["outcome"] == "miss" and miss["queued"]
        time.sleep(1.5)  # the server flushes its miss queue every second
        config = tmp_path / "on_demand.yaml"
        config.write_text(ON_DEMAND)
        refreshed = _cli("serve", "refresh", "-w", ws.root, "--config", config)
        assert refreshed.returncode == 0, refreshed.stderr[-3000:]
        assert "1 queued misses" in refreshed.stdout
        deadline = time.monotonic() + 10
        while True:  # the server picks up the new snapshot within its check interval
            hit = httpx.get(url, params={"q": "yoga mat for hot yoga classes"}).json()
            if hit["outcome"] == "hit" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert hit["outcome"] == "hit" and hit["entry"]["source"] == "tier2"
        assert all(i["source"] == "query_on_demand" for i in hit["entry"]["intentions"])
        assert hit["entry"]["intentions"], "the bundled model produced nothing that survived the filters"
    finally:
        server.terminate()
        server.wait(timeout=10)
