"""The annotation store: one SQLite file per workspace (``<ws>/annotate/store.sqlite``).

SQLite in WAL mode lets the web app's worker threads read while one writes; every write runs in
its own ``BEGIN IMMEDIATE`` transaction and a ``UNIQUE(item_id, annotator, role)`` constraint
makes a double-submitted answer a no-op, so parallel submissions lose nothing and store nothing
twice. Each call opens its own short-lived connection; nothing is shared between threads.

Tables: ``items`` (what to annotate), ``users`` (token hashes and roles), ``assignments`` (who
holds which item), ``answers`` (one row per person per item and role: annotator, resolver or
auditor), ``refused_answers`` (answers the app did not count, with the reason), ``sessions``
(hashed session ids of logged-in people) and ``login_failures`` (for the login rate limit).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from intentkg.annotate.questions import NAMES

SCHEMA_VERSION = 1
ROLES = ("annotator", "resolver", "auditor")  # the role an answer was given in
BATCHES = ("pilot", "main", "audit", "active")

_DDL = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    item_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    behavior_id TEXT,
    kind TEXT NOT NULL,
    head TEXT NOT NULL,
    left_text TEXT,
    right_text TEXT,
    product_ids TEXT NOT NULL DEFAULT '[]',
    relation TEXT NOT NULL,
    tail TEXT NOT NULL,
    category TEXT,
    batch TEXT NOT NULL DEFAULT 'main',
    stratum TEXT,
    weight REAL,
    uncertainty REAL,
    audit INTEGER NOT NULL DEFAULT 0,
    added_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_seq ON items(seq);
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS assignments (
    item_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    role TEXT NOT NULL,
    assigned_at TEXT NOT NULL,
    PRIMARY KEY (item_id, annotator, role)
);
CREATE TABLE IF NOT EXISTS answers (
    answer_id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL REFERENCES items(item_id),
    annotator TEXT NOT NULL,
    role TEXT NOT NULL,
    {", ".join(f"{q} INTEGER" for q in NAMES)},
    source TEXT NOT NULL DEFAULT 'app',
    seconds REAL,
    created_at TEXT NOT NULL,
    UNIQUE (item_id, annotator, role)
);
CREATE INDEX IF NOT EXISTS answers_item ON answers(item_id);
-- Answers the app refused (not assigned, hold expired and the item filled meanwhile): kept, never counted.
CREATE TABLE IF NOT EXISTS refused_answers (
    refused_id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    role TEXT NOT NULL,
    {", ".join(f"{q} INTEGER" for q in NAMES)},
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL
);
-- Login sessions: the cookie holds a random id; only its hash is stored.
CREATE TABLE IF NOT EXISTS sessions (
    session_sha256 TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
-- Failed logins by client, for the login rate limit.
CREATE TABLE IF NOT EXISTS login_failures (client TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS login_failures_client ON login_failures(client, at);
CREATE INDEX IF NOT EXISTS answers_person ON answers(annotator, role);
-- The first two annotator answers of every item, side by side.
CREATE VIEW IF NOT EXISTS pairs AS
WITH ranked AS (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY item_id ORDER BY answer_id) AS k
    FROM answers WHERE role = 'annotator'
)
SELECT a.item_id, a.annotator AS a_annotator, b.annotator AS b_annotator,
       {", ".join(f"a.{q} AS a_{q}, b.{q} AS b_{q}" for q in NAMES)}
FROM ranked a JOIN ranked b ON a.item_id = b.item_id AND a.k = 1 AND b.k = 2;
-- Pairs that disagree on at least one question both answered.
CREATE VIEW IF NOT EXISTS disputes AS
SELECT * FROM pairs WHERE {" OR ".join(f"a_{q} <> b_{q}" for q in NAMES)};
"""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class Item:
    item_id: str
    kind: str
    head: str
    relation: str
    tail: str
    behavior_id: str | None = None
    left_text: str | None = None
    right_text: str | None = None
    product_ids: list[str] = field(default_factory=list)
    category: str | None = None
    batch: str = "main"
    stratum: str | None = None
    weight: float | None = None
    uncertainty: float | None = None
    audit: bool = False
    seq: int = 0

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Item":
        data = {k: row[k] for k in row.keys() if k in cls.__dataclass_fields__}
        data["product_ids"] = json.loads(data.get("product_ids") or "[]")
        data["audit"] = bool(data.get("audit"))
        return cls(**data)


@dataclass
class Answer:
    item_id: str
    annotator: str
    role: str
    values: dict[str, bool | None]
    source: str = "app"
    seconds: float | None = None
    created_at: str = ""

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Answer":
        values = {q: (None if row[q] is None else bool(row[q])) for q in NAMES}
        return cls(row["item_id"], row["annotator"], row["role"], values, row["source"],
                   row["seconds"], row["created_at"])


class Store:
    """Open (and create) the store at ``path``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_DDL)
            con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    @classmethod
    def for_workspace(cls, workspace: str | Path) -> "Store":
        return cls(Path(workspace) / "annotate" / "store.sqlite")

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA busy_timeout=30000")
        con.execute("PRAGMA foreign_keys=ON")
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock up front (no upgrade deadlocks)."""
        with self.connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    # -- items ---------------------------------------------------------------------------
    def add_items(self, items: list[Item]) -> int:
        """Insert items not already present (by item_id); returns how many were new."""
        added = 0
        with self.transaction() as con:
            start = con.execute("SELECT COALESCE(MAX(seq), 0) FROM items").fetchone()[0]
            for i, item in enumerate(items, start=1):
                cur = con.execute(
                    "INSERT OR IGNORE INTO items (item_id, seq, behavior_id, kind, head, left_text, right_text, "
                    "product_ids, relation, tail, category, batch, stratum, weight, uncertainty, audit, added_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (item.item_id, start + i, item.behavior_id, item.kind, item.head, item.left_text,
                     item.right_text, json.dumps(item.product_ids), item.relation, item.tail, item.category,
                     item.batch, item.stratum, item.weight, item.uncertainty, int(item.audit), now()),
                )
                added += cur.rowcount
        return added

    def item(self, item_id: str) -> Item | None:
        with self.connect() as con:
            row = con.execute("SELECT * FROM items WHERE item_id = ?", (item_id,)).fetchone()
        return Item.from_row(row) if row else None

    def items(self) -> list[Item]:
        with self.connect() as con:
            return [Item.from_row(r) for r in con.execute("SELECT * FROM items ORDER BY seq")]

    def count_items(self) -> int:
        with self.connect() as con:
            return con.execute("SELECT COUNT(*) FROM items").fetchone()[0]

    # -- answers -------------------------------------------------------------------------
    @staticmethod
    def insert_answer(con: sqlite3.Connection, answer: Answer) -> bool:
        """Insert inside the caller's transaction; False when this person already answered."""
        cur = con.execute(
            f"INSERT OR IGNORE INTO answers (item_id, annotator, role, {', '.join(NAMES)}, source, seconds, "
            f"created_at) VALUES (?,?,?,{', '.join('?' for _ in NAMES)},?,?,?)",
            (answer.item_id, answer.annotator, answer.role,
             *[None if answer.values.get(q) is None else int(answer.values[q]) for q in NAMES],
             answer.source, answer.seconds, answer.created_at or now()),
        )
        return cur.rowcount == 1

    def add_answers(self, answers: list[Answer]) -> int:
        """Insert answers (e.g. from an import); existing (item, annotator, role) rows are kept."""
        with self.transaction() as con:
            return sum(self.insert_answer(con, a) for a in answers)

    def answers(self, role: str | None = None) -> list[Answer]:
        sql, args = "SELECT * FROM answers", ()
        if role:
            sql, args = sql + " WHERE role = ?", (role,)
        with self.connect() as con:
            return [Answer.from_row(r) for r in con.execute(sql + " ORDER BY answer_id", args)]

    def answers_for(self, item_id: str) -> list[Answer]:
        with self.connect() as con:
            rows = con.execute("SELECT * FROM answers WHERE item_id = ? ORDER BY answer_id", (item_id,))
            return [Answer.from_row(r) for r in rows]

    def refused_answers(self) -> list[dict]:
        with self.connect() as con:
            return [dict(r) for r in con.execute("SELECT * FROM refused_answers ORDER BY refused_id")]

    def meta(self, key: str) -> str | None:
        with self.connect() as con:
            row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: Any) -> None:
        with self.transaction() as con:
            con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(value)))
