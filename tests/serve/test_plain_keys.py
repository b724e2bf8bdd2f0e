"""Plain query keys (serve/plain_keys.py): a query that is itself a key the scrub leaves unchanged is
looked up unscrubbed, and everything observable (the bytes, the metrics, the miss queue, the
response cache) is what scrubbing it first gives; every other query, personal data included, is
scrubbed before anything is read as its key, queued or logged. Checked against the same snapshot
served with no key plain, in process and on a real Granian server."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3

import httpx
import pytest

from intentkg.pii.engine import MODEL_ENV
from intentkg.query_key import _clean
from intentkg.serve import plain_keys
from intentkg.serve.app import create_app
from intentkg.serve.keys import encode
from intentkg.serve.plain_keys import is_plain_query_key, scrub_identity
from intentkg.serve.server import ServeSettings
from intentkg.serve.sqlite_store import SQLiteMissQueue, SQLiteSnapshotWriter, SQLiteStore

from .conftest import free_port, start_granian
from .test_fast_path import FACTS, _get_all
from .test_workers import _alive, _until

# key -> whether it is plain (the scrub leaves it as it is and its pre-check clears it)
KEYS = {
    "q:winter camping gear": True,
    "q:call [phone] about a tent": True,  # what the scrub makes of a phone number: a fixed point
    "q:call 555-867-5309 about a tent": False,  # raw personal data (a snapshot should never hold it)
    "q:Winter Camping Gear": False,  # capitals: the scrub lower-cases it
    "q:tent  stakes": False,  # two spaces: the scrub collapses them
    "q: tent": False,
    "q:my name is [person] tent": False,  # "name": the analyzer looks at it, so it is never plain
    "q:lunch box": False,  # "box" (a PO box): the same
    "q:": False,
    "p:M1": False,  # products are not scrubbed
    "q-:winter camping gear": False,  # a left-out query key: read by /pair only
}
QUERIES = [
    "winter camping gear", "Winter Camping Gear", "winter  camping gear ", "call 555-867-5309 about a tent",
    "call [phone] about a tent", "CALL 555 867 5309 about a tent", "call 555-867-5309  about a tent",
    "my name is Jane Doe tent", "my name is [person] tent", "lunch box", "Lunch Box", "tent  stakes",
    "email jane.doe@example.com about tents", "ship to 12 Main Street Boston", "card 4111 1111 1111 1111 tent",
    "garden hose", "call 555-867-5309 about a tent", "winter camping gear"]
QUEUED = {"q:tent stakes", "q:garden hose", "q:email [email] about tents", "q:ship to [address] boston",
          "q:card [card] tent"}  # the misses, by their scrubbed keys


def _value(key: str) -> str:
    return encode("query", key, FACTS, "tier1 " + key)  # each entry names its key: a wrong one shows


@pytest.fixture
def folders(tmp_path):
    """The same snapshot twice: as written (plain keys usable) and with its scrub identity removed
    (as a snapshot written before plain keys, or by another scrub: every query scrubbed)."""
    plain, scrubbed = tmp_path / "plain", tmp_path / "scrubbed"
    SQLiteSnapshotWriter(plain).write_snapshot([(key, _value(key)) for key in KEYS])
    shutil.copytree(plain, scrubbed)
    (snapshot,) = (scrubbed / "snapshots").glob("*.sqlite")
    with sqlite3.connect(snapshot) as conn:
        conn.execute("DELETE FROM meta")
    return plain, scrubbed


def test_the_writer_marks_exactly_the_fixed_points_the_pre_check_clears(folders):
    (snapshot,) = (folders[0] / "snapshots").glob("*.sqlite")
    with sqlite3.connect(snapshot) as conn:
        assert dict(conn.execute("SELECT key, plain FROM kv")) == {k: int(v) for k, v in KEYS.items()}
        assert conn.execute("SELECT value FROM meta WHERE name = 'scrub'").fetchone()[0] == scrub_identity()
    assert {key: is_plain_query_key(key) for key in KEYS} == KEYS
    assert SQLiteStore(folders[0]).view().plain and not SQLiteStore(folders[1]).view().plain


def _scrubs(app, queries) -> tuple[list, int]:
    """(status, content type, body) of each query, and how many times the scrub ran."""
    before = _clean.cache_info()
    answers = asyncio.run(_get_all(app, [("/v1/knowledge/query", {"q": q}, {}) for q in queries]))
    after = _clean.cache_info()
    return answers, after.hits + after.misses - before.hits - before.misses


def test_a_plain_key_answers_as_scrubbing_it_first_and_nothing_else_skips_the_scrub(folders):
    plain_app, scrubbed_app = (create_app(SQLiteStore(f), SQLiteMissQueue(f)) for f in folders)
    plain, plain_scrubs = _scrubs(plain_app, QUERIES)
    scrubbed, scrubs = _scrubs(scrubbed_app, QUERIES)
    # every query scrubbed but the repeat of "winter camping gear" (from the response cache); with
    # plain keys the two plain hits were not scrubbed either, and nothing else
    assert plain == scrubbed and scrubs == len(QUERIES) - 1 and plain_scrubs == scrubs - 2
    bodies = [json.loads(body) for _, _, body in plain]
    keys = {q: (b["key"], b["outcome"], b["entry"] and b["entry"]["source"]) for q, b in zip(QUERIES, bodies)}
    assert keys["call 555-867-5309 about a tent"] == ("q:call [phone] about a tent", "hit",
                                                     "tier1 q:call [phone] about a tent")  # never the raw key's
    assert keys["Winter Camping Gear"] == ("q:winter camping gear", "hit", "tier1 q:winter camping gear")
    assert keys["tent  stakes"] == ("q:tent stakes", "miss", None)
    assert keys["lunch box"] == ("q:lunch box", "hit", "tier1 q:lunch box")  # scrubbed, then found
    for app in (plain_app, scrubbed_app):
        app.answers.queue.flush()
    queued = [sorted(SQLiteMissQueue(f).pending()) for f in folders]
    assert queued[0] == queued[1] and {k for k, _ in queued[0]} == QUEUED, queued
    assert not any(digit in key for key, _ in queued[0] for digit in "0123456789@")  # no raw personal data
    metrics = [app.state.metrics.snapshot() for app in (plain_app, scrubbed_app)]
    assert [{k: m[k] for k in ("requests", "outcomes", "errors")} for m in metrics] == \
        [{k: metrics[1][k] for k in ("requests", "outcomes", "errors")}] * 2
    assert list(plain_app.cache._bodies) == list(scrubbed_app.cache._bodies)  # the same answers kept
    assert not any("555" in query for _, query in plain_app.cache._bodies)  # none holding personal data


def test_a_snapshot_checked_by_another_scrub_or_before_plain_keys_scrubs_every_query(tmp_path, monkeypatch):
    other = tmp_path / "other"
    monkeypatch.setenv(MODEL_ENV, "spacy:a-model-nobody-installed")  # only named: nothing is loaded
    SQLiteSnapshotWriter(other).write_snapshot([(key, _value(key)) for key in KEYS])
    with sqlite3.connect(next((other / "snapshots").glob("*.sqlite"))) as conn:
        assert conn.execute("SELECT count(*) FROM kv WHERE plain").fetchone() == (0,)  # a model: none plain
    monkeypatch.delenv(MODEL_ENV)
    assert not SQLiteStore(other).view().plain  # and its identity is not this process's
    old = tmp_path / "old"  # a snapshot as written before plain keys: no plain column, no meta table
    (old / "snapshots").mkdir(parents=True)
    with sqlite3.connect(old / "snapshots" / "v1.sqlite") as conn:
        conn.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
        conn.executemany("INSERT INTO kv VALUES (?, ?)", [(key, _value(key)) for key in KEYS])
    (old / "CURRENT").write_text("v1")
    store = SQLiteStore(old)
    assert store.version() == "v1" and not store.view().plain and store.view().get_plain("q:winter camping gear") is None
    answers, scrubs = _scrubs(create_app(store, SQLiteMissQueue(old)), ["winter camping gear", "Winter camping gear"])
    assert scrubs == 2 and [json.loads(b)["outcome"] for _, _, b in answers] == ["hit", "hit"]


def test_the_identity_names_the_scrubs_code_and_model(tmp_path, monkeypatch):
    mine = scrub_identity()
    assert json.loads(mine)["rules_version"] and json.loads(mine)["libraries"]["presidio-analyzer"]
    monkeypatch.setenv(MODEL_ENV, "spacy:another")
    assert scrub_identity() != mine
    monkeypatch.delenv(MODEL_ENV)
    edited = tmp_path / "recognisers.py"
    edited.write_text("# a changed recogniser\n")
    sources = plain_keys._sources()
    monkeypatch.setattr(plain_keys, "_sources", lambda: sources + [edited])
    plain_keys._identity.cache_clear()
    try:
        assert scrub_identity() != mine
    finally:
        monkeypatch.undo()
        plain_keys._identity.cache_clear()
    assert scrub_identity() == mine


def test_a_real_granian_server_with_plain_keys_answers_as_one_scrubbing_every_query(folders, tmp_path):
    plain, scrubbed = folders
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "server.log"
    settings = ServeSettings(str(plain.parent / "ws"), per_client_per_minute=1000)
    shutil.copytree(plain, plain.parent / "ws" / "serve")
    server = start_granian(port, settings, log_path)
    try:
        assert _until(lambda: _alive(url) or server.poll() is not None, 90) and server.poll() is None, \
            log_path.read_text(errors="replace")[-3000:]
        with httpx.Client(base_url=url) as client:
            real = [client.get("/v1/knowledge/query", params={"q": q}) for q in QUERIES]
        reference = create_app(SQLiteStore(scrubbed), SQLiteMissQueue(scrubbed))
        expected = asyncio.run(_get_all(reference, [("/v1/knowledge/query", {"q": q}, {}) for q in QUERIES]))
        assert [(r.status_code, r.headers.get("content-type"), r.content) for r in real] == expected
        reference.answers.queue.flush()
        queue = SQLiteMissQueue(plain.parent / "ws" / "serve")  # flushed by the server's loop every second
        # the same misses with the same counts; their order among equals is the time the server's loop
        # flushed them (about every second, so perhaps in two batches), not part of the answer
        assert _until(lambda: sorted(queue.pending()) == sorted(SQLiteMissQueue(scrubbed).pending()), 60), \
            (queue.pending(), SQLiteMissQueue(scrubbed).pending())
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_in_an_experiment_the_exposures_name_the_scrubbed_keys_with_or_without_plain_keys(folders, tmp_path):
    from intentkg.serve.arms import Arms
    from intentkg.serve.experiment import ServingExperiment
    from intentkg.serve.exposure_log import ExposureLog

    logs = [ExposureLog(tmp_path / name) for name in ("plain-log", "scrubbed-log")]
    apps = [create_app(SQLiteStore(f), SQLiteMissQueue(f), experiment=ServingExperiment(Arms("plain-1", 0.5), log))
            for f, log in zip(folders, logs)]
    requests = [("/v1/knowledge/query", {"q": q, "unit_id": f"user-{i}"}, {}) for i, q in enumerate(QUERIES)]
    answers = [asyncio.run(_get_all(app, requests)) for app in apps]
    assert answers[0] == answers[1]
    rows = [[{k: v for k, v in row.items() if k != "ts"} for row in log._rows] for log in logs]
    assert rows[0] == rows[1] and len(rows[0]) == len(QUERIES)
    assert {row["key"] for row in rows[0]} >= {"q:winter camping gear", "q:call [phone] about a tent"}
    assert not any(c in row["key"] for row in rows[0] for c in "0123456789@")  # no raw personal data
