"""Both stores: snapshots, atomic swaps, carried items, the miss queue."""

from __future__ import annotations

import pytest

from intentkg.serve.redis_store import RedisMissQueue, RedisSnapshotWriter, RedisStore
from intentkg.serve.sqlite_store import SQLiteMissQueue, SQLiteSnapshotWriter, SQLiteStore


@pytest.fixture(params=["sqlite", "redis"])
def backend(request, tmp_path):
    if request.param == "sqlite":
        return (SQLiteStore(tmp_path, check_every=0), SQLiteSnapshotWriter(tmp_path), SQLiteMissQueue(tmp_path))
    url = request.getfixturevalue("redis_url")
    prefix = f"t{abs(hash(str(tmp_path)))}"
    return RedisStore(url, prefix), RedisSnapshotWriter(url, prefix), RedisMissQueue(url, prefix)


def test_snapshot_swap_and_items(backend):
    store, writer, _ = backend
    assert store.get("q:tent") is None and store.version() is None
    first = writer.write_snapshot([("q:tent", "1"), ("p:P1", "2")])
    assert store.get("q:tent") == "1" and store.version() == first
    second = writer.write_snapshot([("q:tent", "3")])
    assert second != first
    assert store.get("q:tent") == "3" and store.get("p:P1") is None
    assert dict(writer.items()) == {"q:tent": "3"}


def test_miss_queue_counts_and_done(backend):
    _, _, queue = backend
    for key in ["q:a", "q:b", "q:a", "q:a"]:
        queue.add(key)
    queue.flush()
    assert queue.pending() == [("q:a", 3), ("q:b", 1)]
    assert queue.pending(limit=1) == [("q:a", 3)]
    queue.done(["q:a"])
    assert queue.pending() == [("q:b", 1)]


def test_sqlite_reader_never_sees_a_partial_snapshot(tmp_path):
    writer = SQLiteSnapshotWriter(tmp_path)
    writer.write_snapshot((f"k{i}", "old") for i in range(1000))
    store = SQLiteStore(tmp_path, check_every=0)

    def items():
        for i in range(1000):
            # while the new snapshot is being written the reader still sees the complete old one
            if i == 500:
                assert store.get("k999") == "old" and store.get("k0") == "old"
            yield f"k{i}", "new"

    writer.write_snapshot(items())
    assert store.get("k0") == "new" and store.get("k999") == "new"
    assert len(list((tmp_path / "snapshots").glob("*.sqlite"))) <= 3


def test_sqlite_flush_waits_for_a_concurrent_flush(tmp_path):
    # the server flushes in a background thread; a caller's flush must not return before those
    # misses are committed (it used to see an empty buffer and read the queue too early)
    import threading

    queue = SQLiteMissQueue(tmp_path)
    for round_ in range(20):
        keys = [f"q:{round_}-{i}" for i in range(200)]
        for key in keys:
            queue.add(key)
        background = threading.Thread(target=queue.flush)
        background.start()
        queue.flush()
        assert {k for k, _ in queue.pending()} >= set(keys)
        background.join()
        queue.done(keys)


def test_sqlite_misses_a_flush_is_writing_are_still_held(tmp_path):
    """Old code took a flush's misses out of held() before they were committed: while a (failing or
    waiting) flush ran in the server's background thread, /health said 0 misses in memory where 5 were."""
    import sqlite3
    import threading
    import time

    queue = SQLiteMissQueue(tmp_path)
    for i in range(5):
        queue.add(f"q:key {i}")
    other = sqlite3.connect(queue.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the queue: the flush waits (up to 30 s)
    flush = threading.Thread(target=queue.flush)
    flush.start()
    try:
        deadline = time.monotonic() + 20
        while queue._pending:  # until the flush has taken the misses and waits for the lock
            assert time.monotonic() < deadline, "the flush did not start"
            time.sleep(0.01)
        assert flush.is_alive() and queue.held() == 5
    finally:
        other.execute("COMMIT")
        flush.join(60)
    assert not flush.is_alive() and queue.held() == 0
    assert sorted(k for k, _ in queue.pending()) == [f"q:key {i}" for i in range(5)]


def test_a_replaced_sqlite_snapshot_is_closed_once_idle_and_not_before(tmp_path):
    """Old code never closed a replaced snapshot's connection: each refresh kept one more open (and,
    read through a memory map, one more snapshot in the server's memory)."""
    import sqlite3
    import time

    writer = SQLiteSnapshotWriter(tmp_path)
    writer.write_snapshot([("q:tent", "1")])
    store = SQLiteStore(tmp_path, check_every=0, retire_after=0.3)
    pinned = store.view()
    writer.write_snapshot([("q:tent", "2")])
    assert store.get("q:tent") == "2" and pinned.get("q:tent") == "1"  # a request that pinned it still reads
    time.sleep(0.4)
    store.view()  # the next check closes it
    with pytest.raises(sqlite3.ProgrammingError):
        pinned.get("q:tent")
    assert store.get("q:tent") == "2"
