"""Hit bodies (serve/hit_bodies.py): the snapshot writer precomputes the body of every key a request
is answered from without the scrub, and a hit read from them is the bytes, counts, queue and
response cache that the SQLite path gives, with no SQL run; a damaged or foreign file is not used."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import sqlite3
import time
import zlib

import httpx
import pytest
from fastapi import HTTPException

from intentkg.serve.answers import check_product, check_query
from intentkg.serve.app import create_app
from intentkg.serve.body import hit_body
from intentkg.serve.hit_bodies import HitBodies, bodies_path
from intentkg.serve.keys import encode
from intentkg.serve.server import ServeSettings
from intentkg.serve.sqlite_store import SQLiteMissQueue, SQLiteSnapshotWriter, SQLiteStore

from .conftest import free_port, start_granian
from .test_fast_path import FACTS, _get_all
from .test_plain_keys import KEYS as PLAIN_KEYS
from .test_workers import _alive, _until


def _collision() -> tuple[str, str]:
    """Two query keys with the same CRC-32 (the hash table's tag): the key itself must decide."""
    seen: dict[int, str] = {}
    rng = random.Random(0)  # random texts: texts of one length differing in a few bytes never collide
    for _ in range(1_000_000):
        key = "q:collide " + "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=12))
        crc = zlib.crc32(key.encode())
        if crc in seen:
            return seen[crc], key
        seen[crc] = key
    raise AssertionError("no CRC-32 collision found")


KEYS = [*PLAIN_KEYS, "q:café tent", 'q:17" monitor', "q:tent\\pole", "q:" + "tent " * 99 + "tent",
        "q:" + "tent " * 100 + "tent", "p:A.b-c_d:9", "p:a b", "p:" + "x" * 65, "p:" + "x" * 64, "p:",
        *_collision(), *(f"q:query {i // 1000}k{i % 1000}" for i in range(3_000)),
        *(f"p:IKG{i:07d}" for i in range(2_000))]
QUERIES = ["winter camping gear", "Winter Camping Gear", "café tent", '17" monitor', "tent\\pole",
           "tent " * 99 + "tent", "tent " * 100 + "tent", "call 555-867-5309 about a tent", "call [phone] about a tent",
           "lunch box", "query 1k1", "query 2k999", "query 3k0", "nothing like this", *(k[2:] for k in _collision()),
           "collide abcdefghijkl", "winter camping gear"]
PRODUCTS = ["A.b-c_d:9", "IKG0000007", "IKG0001999", "IKG0002000", "x" * 64, "M1", "NOPE", "IKG0000007"]


def _value(key: str) -> str:
    return encode("query", key, FACTS, "tier1 " + key)


def _accepted(key: str) -> bool:
    """Whether the request for ``key`` passes the endpoint's own checks (what the bodies must hold)."""
    try:
        check_query(key[2:]) if key.startswith("q:") else check_product(key[2:])
    except HTTPException:
        return False
    return key.startswith(("q:", "p:"))


@pytest.fixture
def folders(tmp_path):
    """The same snapshot twice: with its hit bodies, and with the file deleted (served from SQLite)."""
    with_bodies, without = tmp_path / "bodies", tmp_path / "sqlite"
    SQLiteSnapshotWriter(with_bodies).write_snapshot([(key, _value(key)) for key in KEYS])
    shutil.copytree(with_bodies, without)
    (bodies,) = (without / "snapshots").glob("*.bodies")
    bodies.unlink()
    return with_bodies, without


def test_the_bodies_hold_every_plain_query_and_product_the_checks_accept_with_the_sqlite_paths_bytes(folders):
    store = SQLiteStore(folders[0])
    view = store.view()
    assert view.plain and view.bodies and not SQLiteStore(folders[1]).view().bodies
    (snapshot,) = (folders[0] / "snapshots").glob("*.sqlite")
    with sqlite3.connect(snapshot) as conn:
        rows = list(conn.execute("SELECT key, value, plain FROM kv"))
    held = 0
    for key, value, plain in rows:
        expected = (plain or key.startswith("p:")) and _accepted(key)
        assert view.hit_body(key) == (hit_body(key, view.version, value) if expected else None), key
        held += bool(expected)
    assert held == view._bodies.count and held > 5_000
    assert view.hit_body('q:17" monitor') is not None and view.hit_body("q:café tent") is not None
    assert view.hit_body("q:" + "tent " * 100 + "tent") is None  # plain, but over 500 characters: a 400
    assert view.hit_body("p:a b") is None and view.hit_body("p:" + "x" * 65) is None
    assert view.hit_body("q:tent stakes") is None and view.hit_body("q:query 3k0") is None  # not in the snapshot
    assert all(json.loads(view.hit_body(key))["entry"]["source"] == "tier1 " + key for key in _collision())


def _requests():
    return ([("/v1/knowledge/query", {"q": q}, {}) for q in QUERIES]
            + [(f"/v1/knowledge/product/{p}", {}, {}) for p in PRODUCTS])


def test_hits_from_the_bodies_run_no_sql_and_answer_count_queue_and_keep_what_sqlite_does(folders):
    apps = [create_app(SQLiteStore(f), SQLiteMissQueue(f)) for f in folders]
    statements: list[str] = []
    apps[0].answers.store.view().conn.set_trace_callback(statements.append)
    answers = [asyncio.run(_get_all(app, _requests())) for app in apps]
    assert answers[0] == answers[1]
    outcomes = [json.loads(body).get("outcome", status) for status, _, body in answers[0]]
    assert outcomes.count("hit") >= 14 and "miss" in outcomes
    # the SQL the app with bodies ran: none for a hit; a lookup for each query that is not a plain key
    # (scrubbed first: capitals, a phone number, "box", the misses) and each product miss
    looked_up = [sql.removeprefix("SELECT value FROM kv WHERE key = ").strip("'") for sql in statements]
    assert looked_up == ["q:winter camping gear", "q:call [phone] about a tent", "q:lunch box", "q:query 3k0",
                         "q:nothing like this", "q:collide abcdefghijkl", "p:IKG0002000", "p:NOPE"], statements
    for app in apps:
        app.answers.queue.flush()
    assert SQLiteMissQueue(folders[0]).pending() == SQLiteMissQueue(folders[1]).pending() != []
    metrics = [app.state.metrics.snapshot() for app in apps]
    assert [{k: m[k] for k in ("requests", "outcomes", "errors")} for m in metrics] == \
        [{k: metrics[1][k] for k in ("requests", "outcomes", "errors")}] * 2
    assert list(apps[0].cache._bodies.items()) == list(apps[1].cache._bodies.items())


def test_a_damaged_or_foreign_bodies_file_is_not_used_and_sqlite_answers(folders, tmp_path):
    (bodies,) = (folders[0] / "snapshots").glob("*.bodies")
    reference = asyncio.run(_get_all(create_app(SQLiteStore(folders[1]), SQLiteMissQueue(tmp_path / "q0")),
                                     _requests()))
    with pytest.raises(ValueError, match="not the hit bodies of snapshot"):
        HitBodies(bodies, "20990101T000000-abcdef")
    whole = bodies.read_bytes()
    for damaged in (whole[:-8], whole[:100], whole[:10], b"", b"IKGBODY1" + whole[8:]):
        bodies.write_bytes(damaged)
        store = SQLiteStore(folders[0])
        assert store.view().plain and not store.view().bodies
        assert asyncio.run(_get_all(create_app(store, SQLiteMissQueue(tmp_path / "q")), _requests())) == reference


def test_pruned_and_replaced_snapshots_take_their_bodies_with_them(tmp_path):
    writer = SQLiteSnapshotWriter(tmp_path)
    versions = [writer.write_snapshot([("q:tent", _value(f"q:tent {i}"))]) for i in range(5)]
    files = sorted(p.name for p in (tmp_path / "snapshots").iterdir())
    assert files == sorted(f"{v}.{ext}" for v in versions[-3:] for ext in ("bodies", "sqlite"))
    assert all(bodies_path(p).exists() for p in (tmp_path / "snapshots").glob("*.sqlite"))
    store = SQLiteStore(tmp_path, check_every=0, retire_after=0.3)
    pinned = store.view()
    writer.write_snapshot([("q:tent", _value("q:tent new"))])
    assert b"tent 4" in pinned.hit_body("q:tent") and b"tent new" in store.view().hit_body("q:tent")
    time.sleep(0.4)
    store.view()  # the next check closes the replaced snapshot: its map too
    with pytest.raises(ValueError):
        pinned.hit_body("q:tent")


def test_a_real_granian_server_answers_from_the_bodies_as_from_sqlite(folders, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "server.log"
    workspace = tmp_path / "ws"
    shutil.copytree(folders[0], workspace / "serve")
    server = start_granian(port, ServeSettings(str(workspace), per_client_per_minute=1000), log_path)
    try:
        assert _until(lambda: _alive(url) or server.poll() is not None, 90) and server.poll() is None, \
            log_path.read_text(errors="replace")[-3000:]
        rng = random.Random(5)
        requests = _requests() + [("/v1/knowledge/query", {"q": f"query {i // 1000}k{i % 1000}"}, {})
                                  for i in rng.sample(range(3_000), 200)] + [
            (f"/v1/knowledge/query?{raw}", None, {}) for raw in (  # q-only spellings (the RSGI lane) and others
                "q=query%201k1", "q=query+1k2", "q=Query+1k3", "q=", "q=+", "q=query+1k4&q=query+1k5",
                "q=query+1k6&unit_id=u", "q=caf%C3%A9+tent", "q=" + "tent+" * 99 + "tent", "q=" + "tent+" * 100 + "tent",
                "q=%71uery+1k7", "q=query%2B1k8")]
        with httpx.Client(base_url=url) as client:
            real = [client.get(path, params=params) for path, params, _ in requests]
        reference = create_app(SQLiteStore(folders[1]), SQLiteMissQueue(folders[1]))
        expected = asyncio.run(_get_all(reference, requests))
        assert [(r.status_code, r.headers.get("content-type"), r.content) for r in real] == expected
        reference.answers.queue.flush()
        queue = SQLiteMissQueue(workspace / "serve")  # flushed by the server's loop every second
        # the same misses and counts; their order among equals is the second the server's loop flushed each
        # (about every second: two batches when a flush lands mid-run), not part of the answer
        assert _until(lambda: sorted(queue.pending()) == sorted(SQLiteMissQueue(folders[1]).pending()), 60), \
            (queue.pending(), SQLiteMissQueue(folders[1]).pending())
    finally:
        server.terminate()
        server.wait(timeout=20)
