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


def client_salt(workspace: str | Path) -> bytes:
    """The key that hashes client addresses in the miss queue, kept in ``<ws>/serve/client_salt`` so
    that distinct clients are counted the same across restarts and workers (never the address itself)."""
    import os
    import secrets

    path = serve_folder(workspace) / "client_salt"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker made it first
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(16))
    return path.read_bytes()
