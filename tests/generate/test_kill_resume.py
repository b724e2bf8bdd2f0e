"""SIGKILL `intentkg generate` (real Gemma 3 270M through llama.cpp) at several points, then resume.

A resumed run must repeat no finished call and write exactly the candidates of an uninterrupted run.
It runs the default batched decoder (2 sequences together) with a cache commit every 2 calls, so the
kills land between batches and inside them.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from intentkg.generate.request_cache import RequestCache
from intentkg.ingest import run_ingest
from intentkg.ingest.demo import demo_config
from intentkg.workspace import Workspace

ARGS = ["--limit", "3", "--relations", "used_for_function,xWant", "--max-tokens", "16", "--seed", "7",
        "--temperature", "0.8", "--option", "parallel=2", "--batch-size", "2"]
CALLS = 6
TIMEOUT = 600


def _start(ws: Path) -> subprocess.Popen:
    env = dict(os.environ, INTENTKG_NO_PROGRESS="1")
    return subprocess.Popen([sys.executable, "-m", "intentkg.cli.main", "generate", "-w", str(ws), *ARGS],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _cached(ws: Path) -> int:
    path = ws / ".cache" / "llm" / "requests.sqlite"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as con:
            return con.execute("SELECT count(*) FROM requests").fetchone()[0]
    except sqlite3.OperationalError:  # created but no table yet
        return 0


def _kill_when(ws: Path, proc: subprocess.Popen, cached_at_least: int | None, after_s: float | None = None) -> int:
    deadline = time.monotonic() + TIMEOUT
    started = time.monotonic()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"generate finished before the kill point: {proc.stderr.read()[-2000:]}")
        if after_s is not None and time.monotonic() - started >= after_s:
            break
        if cached_at_least is not None and _cached(ws) >= cached_at_least:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return _cached(ws)


def _finish(ws: Path) -> None:
    proc = _start(ws)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, err[-3000:]


@pytest.mark.slow
def test_sigkill_at_several_points_then_resume_matches_an_uninterrupted_run(tmp_path):
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    for ws in (reference, killed):
        run_ingest(demo_config(), ws)
    _finish(reference)
    expected = pq.read_table(reference / "generate" / "candidates.parquet")
    ref_manifest = Workspace(reference).manifest("generate")
    assert ref_manifest.counts["backend_calls"] == CALLS and expected.num_rows >= CALLS

    progress = [_kill_when(killed, _start(killed), None, after_s=1.0)]  # during start-up / model load
    progress.append(_kill_when(killed, _start(killed), 1))  # after the first finished call
    progress.append(_kill_when(killed, _start(killed), 3))  # in the middle
    assert progress[1] >= 1 and progress[2] >= 3 and progress[2] < CALLS
    before_final = _cached(killed)
    _finish(killed)

    manifest = Workspace(killed).manifest("generate")
    assert manifest.status == "complete"
    assert manifest.counts["cache_hits"] == before_final
    assert manifest.counts["backend_calls"] == CALLS - before_final
    with RequestCache(killed / ".cache" / "llm") as cache:
        logged, distinct = cache.calls()
    assert logged == distinct == CALLS, "a finished call was made twice"
    assert pq.read_table(killed / "generate" / "candidates.parquet").equals(expected)
