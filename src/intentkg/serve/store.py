"""The serving store contract: a read side that answers GETs from the current snapshot, and a
write side that builds a whole new snapshot and swaps it in atomically.

A request never sees a half-written cache: readers only ever look at a complete snapshot, and
switching snapshots is one atomic step (a file rename for SQLite, one SET for Redis).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class SnapshotReader(Protocol):
    """One pinned snapshot: every read sees the same version. ``plain``: whether ``get_plain`` may
    find anything (:mod:`intentkg.serve.plain_keys`; a store that does not record plain keys says False);
    ``bodies``: the same for ``hit_body``."""

    version: str | None
    plain: bool
    bodies: bool  # whether hit_body may find anything

    def get(self, key: str) -> str | None: ...

    def get_plain(self, key: str) -> str | None:
        """The value of ``key`` if it is a plain query key checked by this process's scrub, else None."""
        ...

    def hit_body(self, key: str) -> bytes | None:
        """The precomputed body of a hit on ``key`` outside an experiment (:mod:`intentkg.serve.hit_bodies`:
        a plain query key, used only when ``plain``, or a product key), else None."""
        ...


class KnowledgeStore(Protocol):
    """Read side, used on the request path."""

    problem: str | None  # why the live snapshot is not the newest one, when it is not

    def get(self, key: str) -> str | None: ...

    def view(self) -> SnapshotReader: ...

    def version(self) -> str | None: ...

    def close(self) -> None: ...


class SnapshotWriter(Protocol):
    """Write side, used by precompute and refresh."""

    def write_snapshot(self, items: Iterable[tuple[str, str]]) -> str:
        """Write every (key, JSON value) as a new snapshot, swap it in, return its version."""
        ...

    def items(self) -> Iterable[tuple[str, str]]:
        """Every (key, value) of the current snapshot (refresh carries them into the next one)."""
        ...


class MissQueue(Protocol):
    """Misses for the refresh job, ranked by distinct clients, capped in size, expiring when not asked again."""

    refused_full: int  # new keys refused because the queue was full

    def add(self, key: str, client: str = "-") -> None: ...

    def held(self) -> int: ...

    def flush(self) -> None: ...

    def pending(self, limit: int | None = None) -> list[tuple[str, int]]: ...

    def done(self, keys: Iterable[str]) -> None: ...
