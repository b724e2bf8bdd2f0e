"""A refresh swaps the cache atomically: under load no request fails or sees a half-written cache."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from intentkg.serve.app import create_app
from intentkg.serve.keys import encode
from intentkg.serve.redis_store import RedisMissQueue, RedisSnapshotWriter, RedisStore
from intentkg.serve.sqlite_store import SQLiteMissQueue, SQLiteSnapshotWriter, SQLiteStore

from .conftest import ServerThread

KEYS = 300


def _snapshot(generation: int):
    for i in range(KEYS):
        intentions = [{"relation": "used_for_event", "intention": f"gen {generation}", "score": 1.0,
                       "source": "query"}] * 3
        yield f"q:query {i}", encode("query", f"query {i}", intentions, f"tier1-{generation}")


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_no_failed_or_torn_reads_during_refreshes(kind, tmp_path, request):
    if kind == "sqlite":
        store, writer, queue = SQLiteStore(tmp_path, check_every=0.01), SQLiteSnapshotWriter(tmp_path), \
            SQLiteMissQueue(tmp_path)
    else:
        url = request.getfixturevalue("redis_url")
        store, writer, queue = RedisStore(url, "swap"), RedisSnapshotWriter(url, "swap"), RedisMissQueue(url, "swap")
    writer.write_snapshot(_snapshot(0))
    app = create_app(store, queue, pair_text=lambda q, p: "")
    errors, seen, stop = [], set(), threading.Event()

    def client(worker: int) -> None:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            i = worker
            while not stop.is_set():
                i = (i + 7) % KEYS
                try:
                    r = http.get("/v1/knowledge/query", params={"q": f"query {i}"})
                    body = r.json()
                    entry = body["entry"]
                    generations = {x["intention"] for x in entry["intentions"]}
                    if r.status_code != 200 or body["outcome"] != "hit" or len(generations) != 1 \
                            or entry["source"] != "tier1-" + generations.pop().split()[1]:
                        errors.append(body)
                    seen.add(entry["source"])
                except Exception as exc:  # noqa: BLE001 - any failure is what this test counts
                    errors.append(repr(exc))

    with ServerThread(app) as server:
        threads = [threading.Thread(target=client, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        for generation in range(9):
            if generation:
                writer.write_snapshot(_snapshot(generation))
            # the next swap once a client has read this one: a fixed 0.1 s pace (capped at 20 s) let a
            # slow machine swap past versions nobody read; bounded, and what was read is checked below
            deadline = time.monotonic() + 60
            while f"tier1-{generation}" not in seen and not errors and time.monotonic() < deadline:
                time.sleep(0.01)
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert errors == []
    assert seen == {f"tier1-{g}" for g in range(9)}  # the clients really read every version, across 8 swaps
