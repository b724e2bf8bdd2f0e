"""`intentkg serve run --workers 2` on a real Granian server: both workers answer, the metrics pages
sum every worker's counts, and misses from both land in the one SQLite queue with exact counts."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time

import httpx

from intentkg.serve.keys import encode
from intentkg.serve.metrics import Metrics
from intentkg.serve.sqlite_store import SQLiteMissQueue, SQLiteSnapshotWriter
from intentkg.serve.worker_metrics import merge_background

from .conftest import free_port

HITS, MISSES = 60, 15


def _until(condition, seconds: float):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def _alive(url: str) -> bool:
    try:
        return httpx.get(url + "/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_two_workers_sum_their_metrics_and_share_the_queue(tmp_path):
    """Old code: uvicorn was handed an app object, refused to fork workers and exited."""
    facts = [{"relation": "used_for_event", "intention": "camping", "score": 1.0, "source": "query"}]
    SQLiteSnapshotWriter(tmp_path / "serve").write_snapshot(
        [(f"q:tent {i}", encode("query", f"tent {i}", facts, "tier1")) for i in range(HITS)])
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "server.log", "wb")  # a file, not a pipe nobody reads
    server = subprocess.Popen([sys.executable, "-m", "intentkg.cli.main", "serve", "run", "-w", str(tmp_path),
                               "--port", str(port), "--workers", "2", "--per-client-per-minute", "1000"],
                              env=dict(os.environ, INTENTKG_NO_PROGRESS="1"), stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        assert _until(lambda: _alive(url) or server.poll() is not None, 90) and server.poll() is None, \
            (tmp_path / "server.log").read_text(errors="replace")[-3000:]
        for i in range(HITS):  # a new connection each time: the kernel spreads them over the workers
            assert httpx.get(url + "/v1/knowledge/query", params={"q": f"Tent {i}"}).json()["outcome"] == "hit"
        for i in range(2 * MISSES):
            assert httpx.get(url + "/v1/knowledge/query", params={"q": f"stove {i % MISSES}"}).json()["queued"]
        assert httpx.get(url + "/v1/knowledge/product/bad%20id").status_code == 400
        total = HITS + 2 * MISSES + 1

        def summed():
            # every request counted, and both workers on the page: a worker's first file comes a tick after
            # it starts, and on a slow machine the second may start after the first served everything
            metrics = httpx.get(url + "/metrics").json()
            return metrics if sum(metrics["requests"].values()) == total and \
                metrics["background"]["workers"] == 2 else None

        metrics = _until(summed, 60)  # each worker writes its counts every second
        assert metrics, httpx.get(url + "/metrics").json()
        assert metrics["background"]["workers"] == 2
        assert metrics["outcomes"] == {"query:hit": HITS, "query:miss": 2 * MISSES}
        assert metrics["errors"] == {"product:400": 1} and metrics["latency_ms_histogram"]["+Inf"] == total - 1
        # the next request may land on the other worker, whose copy of this one's counts can be up to a
        # second old: the page must reach the sum, not show it on the first ask
        line = f'intentkg_requests_total{{endpoint="query"}} {HITS + 2 * MISSES}'
        assert _until(lambda: line in httpx.get(url + "/metrics/prometheus").text, 60), \
            httpx.get(url + "/metrics/prometheus").text
        queue = SQLiteMissQueue(tmp_path / "serve")
        # each worker flushes its counts about every second, and the two asks for one key may come from
        # different workers: wait until every ask is on disk, not only until every key is
        def flushed():
            pending = queue.pending()
            return pending if sum(hits for _, hits in pending) == 2 * MISSES else None

        pending = _until(flushed, 60)
        assert pending and sorted(pending) == sorted((f"q:stove {i}", 2) for i in range(MISSES))
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def _flush_from_a_process(folder, client: str, rounds: int, keys: int) -> None:
    queue = SQLiteMissQueue(folder, max_keys=keys + 5)
    for r in range(rounds):
        for k in range(keys):
            queue.add(f"q:key {k}", client)
        queue.add(f"q:{client} only {r}", client)
        queue.flush()


def test_flushes_from_several_processes_count_exactly_and_respect_the_cap(tmp_path):
    SQLiteMissQueue(tmp_path)
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_flush_from_a_process, args=(tmp_path, f"c{n}", 20, 40)) for n in range(3)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(60)
        assert p.exitcode == 0
    queue = SQLiteMissQueue(tmp_path, max_keys=45)
    pending = dict(queue.pending())
    assert {pending[f"q:key {k}"] for k in range(40)} == {60}  # 3 processes x 20 rounds, none lost
    assert {queue.clients(f"q:key {k}") for k in range(40)} == {3}
    assert len(pending) == 45  # the cap held across processes: 5 of the 60 one-off keys fit


def test_metrics_and_background_health_merge_by_summing():
    a, b = Metrics(), Metrics()
    a.observe("query", 0.3, "hit")
    a.error("query", 400)
    b.observe("query", 3.0, "miss")
    b.observe("pair", 30.0, "hit")
    merged = Metrics.merged([a.state(), b.state()]).snapshot()
    assert merged["requests"] == {"query": 3, "pair": 1} and merged["hit_rate"] == 2 / 3
    assert merged["errors"] == {"query:400": 1} and merged["latency_ms_histogram"]["0.5"] == 1
    assert merged["latency_ms_histogram"]["5"] == 2 and merged["latency_ms_histogram"]["+Inf"] == 3
    step = {"runs": 4, "errors": 1, "consecutive_errors": 1, "last_error": "OSError: x", "last_error_at": 5.0,
            "last_ok_at": 3.0}
    ok = {"runs": 4, "errors": 0, "consecutive_errors": 0, "last_error": None, "last_error_at": None,
          "last_ok_at": 6.0}
    background = merge_background([
        {"steps": {"flush": step}, "failing": ["flush"], "misses_held_in_memory": 2, "misses_refused": {"a": 1}},
        {"steps": {"flush": ok}, "failing": [], "misses_held_in_memory": 3, "misses_refused": {"a": 2, "b": 1}}])
    assert background["failing"] == ["flush"] and background["misses_held_in_memory"] == 5
    assert background["misses_refused"] == {"a": 3, "b": 1} and background["workers"] == 2
    assert background["steps"]["flush"] == {"runs": 8, "errors": 1, "consecutive_errors": 1,
                                            "last_error": "OSError: x", "last_error_at": 5.0, "last_ok_at": 6.0}
