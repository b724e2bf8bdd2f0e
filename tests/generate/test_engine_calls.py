"""Generation on a real local Ray cluster (llama.cpp actors, the bundled Gemma 3 270M): the driver
SIGKILLed mid-run, then a re-run repeats no finished call (counted in the request cache's call log,
merged from the workers' shards). A worker killed mid-run, and the same tables as the local
engine: tests/engine/test_ray.py."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

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
    return Workspace(ws).read("generate", "candidates")  # on Ray a folder of parts


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


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # an exited process its parent has not reaped yet runs no more code
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _keys(ws: Path) -> set[str]:
    with RequestCache(ws / ".cache" / "llm") as cache:
        return {row[0] for row in cache._con.execute("SELECT key FROM requests")}


def _assert_no_call_repeated(ws: Path) -> None:
    with RequestCache(ws / ".cache" / "llm") as cache:
        assert cache.calls() == (CALLS, CALLS)  # every call logged once: none was made twice
        assert cache.count() == CALLS


def test_a_killed_driver_leaves_its_answers_to_the_next_run(ray_cluster, tmp_path):
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
    # Ray ends a dead driver's workers on its own time: until they are gone one may still be answering,
    # and a call it and the re-run's worker both make would count twice (the re-run must find them gone)
    shards = shard_paths(ws / ".cache" / "llm")
    workers = {int(path.stem.split("-")[-2]) for path in shards}  # <run>-<host>-<pid>-<nonce>
    deadline = time.monotonic() + 120
    while workers and time.monotonic() < deadline:
        workers = {pid for pid in workers if _running(pid)}
        time.sleep(0.1)
    assert not workers, f"the killed driver's Ray workers {sorted(workers)} still run after 120 s"
    assert Workspace(ws).manifest("generate").status == "interrupted"
    manifest = run_generate(_config({"name": "ray", "workers": 1}), ws)
    assert manifest.counts["cache_hits"] >= 1  # what the killed run's worker finished was reused
    _assert_no_call_repeated(ws)
    assert manifest.counts["calls_without_answer"] == 0
    assert set(_candidates(ws).column("request_key").to_pylist()) == _keys(ws)
