"""The request cache: every finished LLM call, by content, in one SQLite file per workspace.

Key = sha256 of (model id, model file hash, rendered prompt, sampling parameters, seed, and the
backend's decoding mode where it has several that draw different answers), so a
cached answer is reused whenever exactly that call would be made again, by any run or stage.
Rows are only ever inserted (``INSERT OR IGNORE``), never updated or deleted, and each batch is
committed in one transaction (WAL journal, fsync on commit): a run killed at any moment loses at
most the batch in flight, and a re-run repeats no call that had finished. The ``calls`` table logs
every call that reached the cache, so repeated calls can be counted.

Workers of a cluster (``--engine ray``) do not write this file: each writes its own shard,
``shards/<name>.sqlite`` beside it (same schema, one writer each, so it is safe on a shared
filesystem), and checks every shard before calling the model, so a block retried after a worker
died repeats nothing. The driver folds the shards into the main file (:meth:`RequestCache.merge_shards`)
before it plans a run and after it; a shard left by a killed run is folded in by the next one.
"""


from __future__ import annotations

import contextlib
import fcntl
import json
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from intentkg.llm.protocol import Completion, ModelInfo, Request, Result, SamplingParams
from intentkg.workspace.fingerprint import canonical_json, hash_json

FILE_NAME = "requests.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model_id TEXT NOT NULL,
    model_hash TEXT NOT NULL,
    prompt TEXT NOT NULL,          -- the rendered prompt, or the chat messages as JSON
    params TEXT NOT NULL,          -- sampling parameters as JSON
    completions TEXT NOT NULL,     -- JSON list, one entry per sample
    seconds REAL,
    run_id TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    run_id TEXT,
    finished_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS merged_shards (
    name TEXT PRIMARY KEY,         -- a worker's shard folded into this file (each once)
    merged_at TEXT NOT NULL
);
"""
SHARDS = "shards"


def request_key(model: ModelInfo, prompt: str | None, messages: Sequence[dict] | None,
                params: SamplingParams) -> str:
    """The content address of one call (the seed is part of ``params``)."""
    rendered = prompt if messages is None else canonical_json(list(messages))
    content = {
        "model_id": model.model_id, "model_hash": model.model_hash,
        "prompt_kind": "text" if messages is None else "chat", "prompt": rendered,
        "params": params.as_dict(),
    }
    if model.decoding is not None:  # e.g. llama.cpp's batched decoder draws other answers than its single stream
        content["decoding"] = model.decoding
    return hash_json(content)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def shard_paths(folder: str | Path) -> list[Path]:
    """The worker shards of the cache in ``folder`` (whole or being written), by name."""
    return sorted((Path(folder) / SHARDS).glob("*.sqlite"))


@contextlib.contextmanager
def shard_lock(shard: Path) -> Iterator[None]:
    """The lock a worker holds on its shard while it commits a batch, and the driver while it folds
    the shard in (``flock`` on ``<shard>.lock``; released when its holder dies)."""
    with open(f"{shard}.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def known_anywhere(folder: str | Path, keys: Sequence[str]) -> set[str]:
    """Keys answered in the main file or in any shard: what a worker must not call again."""
    found: set[str] = set()
    for path in [Path(folder) / FILE_NAME, *shard_paths(folder)]:
        if not path.exists() or len(found) == len(keys):
            continue
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
            try:
                found |= _select_keys(con, [k for k in keys if k not in found])
            finally:
                con.close()
        except sqlite3.OperationalError:  # a shard created an instant ago, before its tables
            continue
    return found


def answers(folder: str | Path, keys: Sequence[str]) -> dict[str, list[Completion]]:
    """The answers of ``keys`` in the main file, opened read-only (a worker building candidates after
    the driver folded the shards in: many readers, no writer)."""
    path = Path(folder) / FILE_NAME
    if not path.exists():
        return {}
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
    try:
        return _select_answers(con, list(dict.fromkeys(keys)))
    finally:
        con.close()


def _select_answers(con: sqlite3.Connection, keys: list[str]) -> dict[str, list[Completion]]:
    found: dict[str, list[Completion]] = {}
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        cursor = con.execute(f"SELECT key, completions FROM requests WHERE key IN ({','.join('?' * len(chunk))})",
                             chunk)
        found.update((key, [Completion.from_dict(c) for c in json.loads(data)]) for key, data in cursor)
    return found


def _select_keys(con: sqlite3.Connection, keys: list[str]) -> set[str]:
    found = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        cursor = con.execute(f"SELECT key FROM requests WHERE key IN ({','.join('?' * len(chunk))})", chunk)
        found.update(row[0] for row in cursor)
    return found


class RequestCache:
    def __init__(self, folder: str | Path, shard: str | None = None):
        """The cache in ``folder``; with ``shard``, a worker's own file ``shards/<shard>.sqlite``."""
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / FILE_NAME
        if shard is not None:
            (self.folder / SHARDS).mkdir(exist_ok=True)
            self.path = self.folder / SHARDS / f"{shard}.sqlite"
        # one call at a time, but Ray Data may make each from another thread of an actor
        self._con = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=shard is None)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=FULL")
        self._con.executescript(_SCHEMA)

    def __enter__(self) -> "RequestCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    def count(self) -> int:
        return self._con.execute("SELECT count(*) FROM requests").fetchone()[0]

    def calls(self) -> tuple[int, int]:
        """(calls logged, distinct keys among them): equal when no finished call was ever repeated."""
        return tuple(self._con.execute("SELECT count(*), count(DISTINCT key) FROM calls").fetchone())

    def merge_shards(self) -> int:
        """Fold every worker shard into this (main) file, each in one transaction, then delete it.
        A worker holds its shard's lock while it commits a batch, and opens a new shard when its
        own was folded in, so this may run while workers are alive (a killed driver's). Returns the
        answers new here. Safe to repeat after a kill at any point: a shard is recorded as merged
        in the same transaction, so its call log is never counted twice."""
        added = 0
        for path in shard_paths(self.folder):
            with shard_lock(path):
                if not path.exists():
                    continue
                added += self._merge_one(path)
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            Path(f"{path}.lock").unlink(missing_ok=True)
        return added

    def _merge_one(self, path: Path) -> int:
        name = path.stem
        if self._con.execute("SELECT 1 FROM merged_shards WHERE name = ?", (name,)).fetchone():
            return 0
        before = self.count()
        self._con.execute("ATTACH DATABASE ? AS shard", (str(path),))
        try:
            tables = {r[0] for r in self._con.execute("SELECT name FROM shard.sqlite_master")}
            self._begin()
            try:
                if {"requests", "calls"} <= tables:
                    self._con.execute("INSERT OR IGNORE INTO requests SELECT * FROM shard.requests")
                    self._con.execute("INSERT INTO calls (key, run_id, finished_at) "
                                      "SELECT key, run_id, finished_at FROM shard.calls ORDER BY id")
                self._con.execute("INSERT INTO merged_shards VALUES (?, ?)", (name, _now()))
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
        finally:
            self._con.execute("DETACH DATABASE shard")
        return self.count() - before

    def known(self, keys: Iterable[str]) -> set[str]:
        return set(self._select("SELECT key FROM requests WHERE key IN ({})", list(keys), lambda r: r[0]))

    def get_many(self, keys: Iterable[str]) -> dict[str, list[Completion]]:
        return _select_answers(self._con, list(keys))

    def _select(self, sql: str, keys: list[str], convert) -> list:
        found = []
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            cursor = self._con.execute(sql.format(",".join("?" * len(chunk))), chunk)
            found.extend(convert(row) for row in cursor)
        return found

    def put_many(self, model: ModelInfo, requests: Sequence[Request], results: Sequence[Result],
                 run_id: str | None = None) -> int:
        """Store the successful results of one batch in one transaction; returns how many were stored."""
        rows, calls = [], []
        stamp = _now()
        for request, result in zip(requests, results, strict=True):
            if result.error is not None or result.key != request.key:
                continue
            prompt = request.prompt if request.messages is None else canonical_json(list(request.messages))
            rows.append((request.key, model.backend, model.model_id, model.model_hash, prompt,
                         canonical_json(request.params.as_dict()),
                         json.dumps([c.to_dict() for c in result.completions], ensure_ascii=False),
                         round(result.seconds, 4), run_id, stamp))
            calls.append((request.key, run_id, stamp))
        if not rows:
            return 0
        self._begin()
        try:
            self._con.executemany("INSERT OR IGNORE INTO requests VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
            self._con.executemany("INSERT INTO calls (key, run_id, finished_at) VALUES (?,?,?)", calls)
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        return len(rows)

    def _begin(self) -> None:
        for attempt in range(5):
            try:
                self._con.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError:
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))
