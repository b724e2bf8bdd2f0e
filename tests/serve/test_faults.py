"""The API under faults, on a real uvicorn server: a CURRENT naming a missing snapshot, a miss queue
that cannot be written; errors counted by status; /docs offline; one
snapshot per /pair answer (issue 18, items 5 and 11)."""

from __future__ import annotations

import shutil
import subprocess
import time

import httpx
import pytest

from intentkg.serve.app import create_app
from intentkg.serve.keys import encode
from intentkg.serve.sqlite_store import SQLiteMissQueue, SQLiteSnapshotWriter, SQLiteStore

from .conftest import ServerThread


def _items(generation: str):
    for key, kind in (("q:tent", "query"), ("p:P1", "product")):
        yield key, encode(kind, key[2:], [{"relation": "used_for_event", "intention": "camping", "score": 1.0,
                                           "source": "query"}], generation)


def _wait(condition, seconds: float = 60.0):  # generous: returns as soon as it holds
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_background_loop_survives_faults_and_serves_the_last_good_snapshot(tmp_path):
    """Old code: a CURRENT naming a missing snapshot gave 500s, and the first failing flush ended the
    background loop for good (misses held in memory, never written)."""
    writer, queue = SQLiteSnapshotWriter(tmp_path), SQLiteMissQueue(tmp_path)
    good = writer.write_snapshot(_items("gen0"))
    store = SQLiteStore(tmp_path, check_every=0)
    app = create_app(store, queue, flush_every=0.05)
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        (tmp_path / "CURRENT").write_text("20990101T000000-gone00")  # a snapshot that does not exist
        r = http.get("/v1/knowledge/query", params={"q": "tent"})
        assert r.status_code == 200 and r.json()["outcome"] == "hit" and r.json()["version"] == good
        health = http.get("/health").json()
        assert health["status"] == "degraded" and "20990101T000000-gone00" in health["problems"][0]

        # the queue file cannot be opened: flushes fail, misses stay in memory, the loop goes on
        (tmp_path / "queue.sqlite").unlink()
        for suffix in ("-wal", "-shm"):
            (tmp_path / f"queue.sqlite{suffix}").unlink(missing_ok=True)
        (tmp_path / "queue.sqlite").mkdir()
        (tmp_path / "CURRENT").write_text(good)
        writer.write_snapshot(_items("gen1"))
        for i in range(5):
            http.get("/v1/knowledge/query", params={"q": f"garden hose {i}"})
        _wait(lambda: set(http.get("/health").json()["background"]["failing"]) == {"flush"})
        health = http.get("/health").json()
        assert health["status"] == "degraded" and health["background"]["misses_held_in_memory"] == 5
        metrics = http.get("/metrics").json()["background"]["steps"]
        assert metrics["flush"]["errors"] >= 1 and "OperationalError" in metrics["flush"]["last_error"]
        prometheus = http.get("/metrics/prometheus").text
        assert 'intentkg_background_failing{step="flush"} 1' in prometheus

        # the fault goes away: the same loop flushes every held miss
        (tmp_path / "queue.sqlite").rmdir()
        _wait(lambda: http.get("/health").json()["status"] == "ok")
        assert {k for k, _ in SQLiteMissQueue(tmp_path).pending()} == {f"q:garden hose {i}" for i in range(5)}
        assert http.get("/v1/knowledge/query", params={"q": "tent"}).json()["entry"]["source"] == "gen1"


def test_errors_are_counted_by_status_and_product_ids_with_a_newline_are_refused(tmp_path):
    """Old code: `errors` stayed empty after any number of 4xx; "P1\\n" passed the id check."""
    writer = SQLiteSnapshotWriter(tmp_path)
    writer.write_snapshot(_items("gen0"))
    app = create_app(SQLiteStore(tmp_path), SQLiteMissQueue(tmp_path), flush_every=0.05)
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.get("/v1/knowledge/product/P1%0A").status_code == 400
        assert http.get("/v1/knowledge/pair", params={"q": "tent", "product_id": "P1\n"}).status_code == 400
        for _ in range(3):
            assert http.get("/v1/knowledge/query", params={"q": "  "}).status_code == 400
        assert http.get("/v1/knowledge/query").status_code == 422
        assert http.get("/nowhere").status_code == 404
        errors = http.get("/metrics").json()["errors"]
        assert errors == {"product:400": 1, "pair:400": 1, "query:400": 3, "query:422": 1, "unmatched:404": 1}
        assert 'intentkg_errors_total{endpoint="query",status="400"} 3' in http.get("/metrics/prometheus").text


class SwapBetweenReads(SQLiteStore):
    """A real snapshot swap lands right after the first read of a request."""

    def __init__(self, folder, writer):
        super().__init__(folder, check_every=0)
        self.writer, self.swapped = writer, False

    def _swap_once(self):
        if not self.swapped:
            self.swapped = True
            self.writer.write_snapshot(_items("gen1"))

    def get(self, key):
        value = super().get(key)
        self._swap_once()
        return value

    def view(self):
        from intentkg.serve.sqlite_store import SnapshotView

        pinned = super().view()
        outer = self

        class Swapping(SnapshotView):
            def get(self, key):
                value = pinned.get(key)
                outer._swap_once()
                return value

        return Swapping(pinned.conn, pinned.version)


def test_a_pair_answer_reads_one_snapshot(tmp_path):
    """Old code read the query from one snapshot and the product from the next one."""
    writer = SQLiteSnapshotWriter(tmp_path)
    first = writer.write_snapshot(_items("gen0"))
    store = SwapBetweenReads(tmp_path, writer)
    app = create_app(store, SQLiteMissQueue(tmp_path), pair_text=lambda q, p: f"{q['source']}+{p['source']}")
    with ServerThread(app) as server:
        body = httpx.get(f"{server.url}/v1/knowledge/pair", params={"q": "tent", "product_id": "P1"}).json()
    assert store.swapped and body["text"] == "gen0+gen0" and body["version"] == first


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_docs_render_offline_in_chromium(tmp_path):
    """Old code's /docs loaded Swagger UI from a CDN: offline it rendered an empty page."""
    app = create_app(SQLiteStore(tmp_path), SQLiteMissQueue(tmp_path))
    with ServerThread(app) as server:
        page = httpx.get(f"{server.url}/docs").text
        assert "cdn." not in page and "/static-offline-docs/swagger-ui-bundle.js" in page
        result = subprocess.run(
            [shutil.which("chromium"), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}",
             "--virtual-time-budget=5000", "--dump-dom", f"{server.url}/docs"],
            capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "intentkg knowledge API" in result.stdout and "/v1/knowledge/pair" in result.stdout
        assert httpx.get(f"{server.url}/redoc").status_code == 200
