"""The miss queue against hostile clients: junk keys refused, per-client rate, size cap, ranking by
distinct clients, expiry, and a refresh that never generates for junk (issue 18, item 8)."""

from __future__ import annotations

import time

import httpx
import pytest

from intentkg.serve.app import create_app
from intentkg.serve.keys import query_cache_key
from intentkg.serve.miss_admission import MissAdmission, junk_reason
from intentkg.serve.redis_store import RedisMissQueue
from intentkg.serve.refresh import refresh
from intentkg.serve.sqlite_store import SQLiteMissQueue, SQLiteSnapshotWriter, SQLiteStore

from .conftest import ServerThread

JUNK = ["a" * 500, "tent\x00", "\u202egnip\u202c", "\u200b\u200b", "!!! ???", "x" * 60 + " tent",
        "tent " * 30, "zzzzzzzzzzzz"]
REAL = ["winter camping gear", "65 inch tv", "café au lait", "テント 2人用", "rtx 4090", "aaa batteries"]


@pytest.mark.parametrize("text", JUNK)
def test_junk_keys_are_refused(text):
    assert junk_reason(query_cache_key(text)) is not None


@pytest.mark.parametrize("text", REAL)
def test_real_queries_pass(text):
    assert junk_reason(query_cache_key(text)) is None


def test_server_queues_only_admitted_misses_at_a_bounded_rate_per_client(tmp_path):
    """Old code queued every key any client sent (4,810 junk keys after a load test)."""
    SQLiteSnapshotWriter(tmp_path).write_snapshot([])
    queue = SQLiteMissQueue(tmp_path)
    app = create_app(SQLiteStore(tmp_path), queue, admission=MissAdmission(per_client_per_minute=5),
                     flush_every=0.05)
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        for text in JUNK:
            body = http.get("/v1/knowledge/query", params={"q": text}).json()
            assert body["outcome"] == "miss" and body["queued"] is False
        answers = [http.get("/v1/knowledge/query", params={"q": f"camping stove {i}"}).json() for i in range(8)]
        assert [a["queued"] for a in answers] == [True] * 5 + [False] * 3
        refused = http.get("/metrics").json()["background"]["misses_refused"]
    assert refused["client_rate_limit"] == 3 and sum(refused.values()) == len(JUNK) + 3
    assert {k for k, _ in queue.pending()} == {f"q:camping stove {i}" for i in range(5)}


@pytest.fixture(params=["sqlite", "redis"])
def make_queue(request, tmp_path):
    if request.param == "sqlite":
        return lambda **kw: SQLiteMissQueue(tmp_path, **kw)
    url = request.getfixturevalue("redis_url")
    prefix = f"m{abs(hash(str(tmp_path)))}"
    return lambda **kw: RedisMissQueue(url, prefix, **kw)


def test_rank_by_distinct_clients_not_repetition(make_queue):
    """Old code ranked by hits: one client repeating junk outranked a miss many clients had."""
    queue = make_queue()
    for _ in range(50):
        queue.add("q:one client hammering", "c1")
    for client in ("c1", "c2", "c3"):
        queue.add("q:asked by three", client)
    queue.flush()
    assert [k for k, _ in queue.pending()] == ["q:asked by three", "q:one client hammering"]
    assert queue.clients("q:asked by three") == 3 and dict(queue.pending())["q:one client hammering"] == 50


def test_queue_is_capped_and_entries_never_asked_again_expire(make_queue):
    """Old code: unbounded, and kept every key forever."""
    # 3 s, not 0.5: everything up to the sleep must happen within it, and a slow machine can pause that long
    queue = make_queue(max_keys=3, expire_after=3.0)
    for i in range(5):
        queue.add(f"q:key {i}", "c1")
    queue.flush()
    assert len(queue.pending()) == 3 and queue.refused_full == 2
    queue.add("q:key 0", "c2")  # a known key is still counted when the queue is full
    queue.flush()
    assert queue.clients("q:key 0") == 2
    time.sleep(3.1)
    queue.add("q:key 1", "c1")  # asked again: stays
    queue.flush()
    assert [k for k, _ in queue.pending()] == ["q:key 1"]


def test_refresh_never_generates_for_junk_already_queued(tmp_path):
    """Old code handed every queued key to the generator (500 x 'a', NUL, RTL, zero-width)."""
    writer, queue = SQLiteSnapshotWriter(tmp_path), SQLiteMissQueue(tmp_path)
    for text in JUNK:  # queued by an older server that did not check keys
        queue.add("q:" + text)
    for client in ("c1", "c2"):
        queue.add("q:winter tent", client)
    queue.add("q:rare query", "c3")
    asked: list[str] = []

    def fill(keys):
        asked.extend(keys)
        return {}

    result = refresh(writer, queue, fill, min_clients=2)
    assert asked == ["q:winter tent"] and result.junk == len(JUNK) and result.too_few_clients == 1
    assert [k for k, _ in queue.pending()] == ["q:rare query"]


def test_misses_held_in_memory_are_bounded_while_flushes_fail(tmp_path, monkeypatch):
    from intentkg.serve import sqlite_store

    monkeypatch.setattr(sqlite_store, "MAX_HELD_KEYS", 10)
    queue = SQLiteMissQueue(tmp_path)
    for i in range(25):
        queue.add(f"q:key {i}", "c1")
    queue.add("q:key 3", "c2")  # a key already held is still counted
    assert queue.held() == 10 and queue.refused_full == 15
    queue.flush()
    assert queue.clients("q:key 3") == 2 and len(queue.pending()) == 10
