"""Generation on a real local Ray cluster (llama.cpp actors, the bundled Gemma 3 270M): the same
candidates as the local engine, and no finished call repeated after a worker or the driver is
SIGKILLed mid-run (counted in the request cache's call log, merged from the workers' shards)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from intentkg.generate import GenerateConfig, run_generate
from intentkg.generate.request_cache import RequestCache, shard_paths
from intentkg.ingest import run_ingest
from intentkg.ingest.demo import demo_config
from intentkg.workspace import Workspace

SRC = Path(__file__).resolve().parents[2] / "src"
CALLS = 4
SETTINGS = {"selection": {"limit": CALLS}, "relations": ["used_for_function"], "batch_size": 1,
            "sampling": {"max_tokens": 12, "seed": 3}, "backend": {"options": {"n_threads": 1, "parallel": 2}}}


def _config(engine) -> GenerateConfig:
    return GenerateConfig.model_validate({**SETTINGS, "engine": engine})


def _workspace(root: Path) -> Path:
    run_ingest(demo_config(), root)
    return root


def _candidates(ws: Path):
    return pq.read_table(ws / "generate" / "candidates.parquet")


def _answered_in_shards(ws: Path) -> list[Path]:
    found = []
    for path in shard_paths(ws / ".cache" / "llm"):
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as con:
                if con.execute("SELECT count(*) FROM requests").fetchone()[0]:
                    found.append(path)
        except sqlite3.Error:
            continue
    return found


def _wait_for_answers(ws: Path, timeout: float = 240) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _answered_in_shards(ws)
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError("no worker committed an answer in time")


def _assert_no_call_repeated(ws: Path) -> None:
    with RequestCache(ws / ".cache" / "llm") as cache:
        assert cache.calls() == (CALLS, CALLS)  # every call logged once: none was made twice
        assert cache.count() == CALLS


@pytest.fixture(scope="module")
def local_candidates(tmp_path_factory):
    ws = _workspace(tmp_path_factory.mktemp("local") / "ws")
    run_generate(_config("local"), ws)
    return _candidates(ws)


def test_ray_engine_with_a_worker_killed_mid_run_writes_the_local_candidates_repeating_no_call(
        ray_cluster, local_candidates, tmp_path):
    ws = _workspace(tmp_path / "ws")
    killed: list[int] = []

    def kill_first_worker() -> None:
        shard = _wait_for_answers(ws)
        pid = int(shard.stem.split("-")[-2])  # <run>-<host>-<pid>-<nonce>
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    killer = threading.Thread(target=kill_first_worker, daemon=True)
    killer.start()
    manifest = run_generate(_config({"name": "ray", "workers": 1}), ws)  # Ray restarts the actor, retries its block
    killer.join(timeout=5)
    assert killed, "the worker was never killed"
    assert manifest.counts["engine"] == "ray"
    _assert_no_call_repeated(ws)
    assert shard_paths(ws / ".cache" / "llm") == []  # every shard folded into the main file
    assert _candidates(ws).equals(local_candidates)
    again = run_generate(_config("local"), ws)  # the engine is not part of the fingerprint: skipped
    assert again.finished_at == manifest.finished_at


def test_a_killed_driver_leaves_its_answers_to_the_next_run(ray_cluster, local_candidates, tmp_path):
    ws = _workspace(tmp_path / "ws")
    code = (f"import ray; ray.init(address={ray_cluster!r}, log_to_driver=False, logging_level='WARNING')\n"
            f"from intentkg.generate import GenerateConfig, run_generate\n"
            f"run_generate(GenerateConfig.model_validate({ {**SETTINGS, 'engine': {'name': 'ray', 'workers': 1}} !r}),"
            f" {str(ws)!r})\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
               INTENTKG_NO_PROGRESS="1", RAY_AUTH_MODE="disabled")
    driver = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_answers(ws)
    finally:
        driver.send_signal(signal.SIGKILL)
        _, err = driver.communicate(timeout=60)
    assert driver.returncode == -signal.SIGKILL, err[-3000:]
    assert Workspace(ws).manifest("generate").status == "interrupted"
    manifest = run_generate(_config({"name": "ray", "workers": 1}), ws)
    assert manifest.counts["cache_hits"] >= 1  # what the killed run's worker finished was reused
    _assert_no_call_repeated(ws)
    assert _candidates(ws).equals(local_candidates)
