"""The request cache: every finished LLM call, by content, in one SQLite file per workspace.

Key = sha256 of (model id, model file hash, rendered prompt, sampling parameters, seed, and the
backend's decoding mode where it has several that draw different answers), so a
cached answer is reused whenever exactly that call would be made again, by any run or stage.
Rows are only ever inserted (``INSERT OR IGNORE``), never updated or deleted, and each batch is
committed in one transaction (WAL journal, fsync on commit): a run killed at any moment loses at
most the batch in flight, and a re-run repeats no call that had finished. The ``calls`` table logs
every call that reached the cache, so repeated calls can be counted.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

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
"""


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


class RequestCache:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / FILE_NAME
        self._con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
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

    def known(self, keys: Iterable[str]) -> set[str]:
        return set(self._select("SELECT key FROM requests WHERE key IN ({})", list(keys), lambda r: r[0]))

    def get_many(self, keys: Iterable[str]) -> dict[str, list[Completion]]:
        rows = self._select("SELECT key, completions FROM requests WHERE key IN ({})", list(keys), tuple)
        return {key: [Completion.from_dict(c) for c in json.loads(data)] for key, data in rows}

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
        for attempt in range(5):
            try:
                self._con.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError:
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))
        try:
            self._con.executemany("INSERT OR IGNORE INTO requests VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
            self._con.executemany("INSERT INTO calls (key, run_id, finished_at) VALUES (?,?,?)", calls)
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        return len(rows)
