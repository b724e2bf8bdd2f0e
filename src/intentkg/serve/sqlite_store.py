"""Embedded store: each snapshot is an immutable SQLite file; a CURRENT file names the live one.

    serve/
      CURRENT                      "20261129T165300-3f2a"  (replaced atomically with os.replace)
      snapshots/<version>.sqlite   key -> JSON value
      queue.sqlite                 misses waiting for the refresh job (WAL)

Readers open snapshots read-only and immutable (no locks at all) and look at CURRENT at most every
``check_every`` seconds; a swap takes effect on the next check. Old snapshots are deleted after
the two newest, giving in-flight readers time to finish.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

KEEP_SNAPSHOTS = 3


def new_version() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


class SQLiteStore:
    def __init__(self, folder: str | Path, check_every: float = 0.5):
        self.folder = Path(folder)
        self.check_every = check_every
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._version: str | None = None
        self._checked = 0.0
        self._refresh(force=True)

    def _current(self) -> str | None:
        try:
            return (self.folder / "CURRENT").read_text().strip() or None
        except FileNotFoundError:
            return None

    def _refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self.check_every:
            return
        self._checked = now
        version = self._current()
        if version == self._version:
            return
        with self._lock:
            if version == self._version:
                return
            conn = None
            if version is not None:
                path = self.folder / "snapshots" / f"{version}.sqlite"
                conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            self._conn, self._version = conn, version  # one reference swap: readers see old or new

    def get(self, key: str) -> str | None:
        self._refresh()
        conn = self._conn
        if conn is None:
            return None
        row = conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def version(self) -> str | None:
        self._refresh()
        return self._version

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class SQLiteSnapshotWriter:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def write_snapshot(self, items: Iterable[tuple[str, str]]) -> str:
        version = new_version()
        snapshots = self.folder / "snapshots"
        snapshots.mkdir(parents=True, exist_ok=True)
        tmp = snapshots / f".{version}.sqlite.tmp"
        conn = sqlite3.connect(tmp)
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
        batch: list[tuple[str, str]] = []
        for item in items:
            batch.append(item)
            if len(batch) >= 10_000:
                conn.executemany("INSERT OR REPLACE INTO kv VALUES (?, ?)", batch)
                batch.clear()
        conn.executemany("INSERT OR REPLACE INTO kv VALUES (?, ?)", batch)
        conn.commit()
        conn.close()
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, snapshots / f"{version}.sqlite")
        pointer = self.folder / f".CURRENT.{os.getpid()}.tmp"
        pointer.write_text(version)
        os.replace(pointer, self.folder / "CURRENT")  # the atomic swap
        self._prune(snapshots)
        return version

    def _prune(self, snapshots: Path) -> None:
        files = sorted(snapshots.glob("*.sqlite"), key=lambda p: p.stat().st_mtime)
        for old in files[:-KEEP_SNAPSHOTS]:
            old.unlink(missing_ok=True)

    def items(self) -> Iterable[tuple[str, str]]:
        try:
            version = (self.folder / "CURRENT").read_text().strip()
        except FileNotFoundError:
            return
        conn = sqlite3.connect(f"file:{self.folder / 'snapshots' / (version + '.sqlite')}?mode=ro", uri=True)
        try:
            yield from conn.execute("SELECT key, value FROM kv")
        finally:
            conn.close()


class SQLiteMissQueue:
    """Misses are counted in memory on the request path and flushed to SQLite (WAL) in batches."""

    def __init__(self, folder: str | Path):
        self.path = Path(folder) / "queue.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._pending: dict[str, int] = {}
        self._lock = threading.Lock()  # guards _pending (the request path only takes this one)
        self._flush_lock = threading.Lock()  # a flush returns only once everything added before it is committed
        with self._connect() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS misses (key TEXT PRIMARY KEY, hits INTEGER NOT NULL, "
                         "first_seen REAL NOT NULL, last_seen REAL NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def add(self, key: str) -> None:
        with self._lock:
            self._pending[key] = self._pending.get(key, 0) + 1

    def flush(self) -> None:
        with self._flush_lock:
            with self._lock:
                pending, self._pending = self._pending, {}
            if not pending:
                return
            now = time.time()
            with self._connect() as conn:
                conn.executemany(
                    "INSERT INTO misses VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                    "hits = hits + excluded.hits, last_seen = excluded.last_seen",
                    [(k, n, now, now) for k, n in pending.items()])

    def pending(self, limit: int | None = None) -> list[tuple[str, int]]:
        self.flush()
        with self._connect() as conn:
            sql = "SELECT key, hits FROM misses ORDER BY hits DESC, first_seen"
            return conn.execute(sql + (f" LIMIT {int(limit)}" if limit else "")).fetchall()

    def done(self, keys: Iterable[str]) -> None:
        with self._connect() as conn:
            conn.executemany("DELETE FROM misses WHERE key = ?", [(k,) for k in keys])
