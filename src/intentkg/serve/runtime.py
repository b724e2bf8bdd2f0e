"""Pick the store behind the API: embedded SQLite in ``<ws>/serve`` by default, Redis when a URL is given."""

from __future__ import annotations

from pathlib import Path

from intentkg.serve.sqlite_store import SQLiteMissQueue, SQLiteSnapshotWriter, SQLiteStore
from intentkg.serve.store import KnowledgeStore, MissQueue, SnapshotWriter


def serve_folder(workspace: str | Path) -> Path:
    return Path(workspace) / "serve"


def open_store(workspace: str | Path, redis_url: str | None = None,
               prefix: str = "intentkg") -> tuple[KnowledgeStore, SnapshotWriter, MissQueue]:
    if redis_url:
        from intentkg.serve.redis_store import RedisMissQueue, RedisSnapshotWriter, RedisStore

        return RedisStore(redis_url, prefix), RedisSnapshotWriter(redis_url, prefix), RedisMissQueue(redis_url, prefix)
    folder = serve_folder(workspace)
    folder.mkdir(parents=True, exist_ok=True)
    return SQLiteStore(folder), SQLiteSnapshotWriter(folder), SQLiteMissQueue(folder)


def cached_queries(writer: SnapshotWriter) -> list[str]:
    """The query texts in the live snapshot (for the nearest-query fallback)."""
    return [key[2:] for key, value in writer.items() if key.startswith("q:") and '"intentions":[]' not in value]
