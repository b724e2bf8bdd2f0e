"""Tier 2: the batch job (run daily from cron) that answers queued misses and swaps in a new snapshot.

    intentkg serve refresh -w ws            # e.g. cron: 0 3 * * * intentkg serve refresh -w /srv/ws

Every queued key gets an entry in the new snapshot, even when nothing survived the filters (an
empty list, ``source: tier2``), so a later identical request is a hit and is not queued again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from intentkg.serve.keys import encode
from intentkg.serve.store import MissQueue, SnapshotWriter

# keys -> {key: value JSON}; keys it cannot answer are simply absent
Fill = Callable[[list[str]], dict[str, str]]


@dataclass
class RefreshResult:
    version: str | None
    queued: int
    filled: int
    empty: int
    carried: int


def refresh(writer: SnapshotWriter, queue: MissQueue, fill: Fill, limit: int | None = None) -> RefreshResult:
    pending = queue.pending(limit)
    keys = [key for key, _ in pending]
    if not keys:
        return RefreshResult(None, 0, 0, 0, 0)
    filled = fill(keys)
    items: dict[str, str] = dict(writer.items())
    carried = len(items)
    empty = 0
    for key in keys:
        if key in filled:
            items[key] = filled[key]
        elif key not in items:
            kind = "query" if key.startswith("q:") else "product"
            items[key] = encode(kind, key[2:], [], "tier2")
            empty += 1
    version = writer.write_snapshot(items.items())
    queue.done(keys)
    return RefreshResult(version, len(keys), len(filled), empty, carried)


def precompute(writer: SnapshotWriter, items: Iterable[tuple[str, str]], keep_tier2: bool = True) -> tuple[str, int]:
    """Write tier-1 items as a new snapshot, carrying over tier-2 entries already answered."""
    new = dict(items)
    if keep_tier2:
        for key, value in writer.items():
            if key not in new and '"source":"tier2"' in value:
                new[key] = value
    return writer.write_snapshot(new.items()), len(new)
