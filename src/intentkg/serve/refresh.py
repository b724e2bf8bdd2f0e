"""Tier 2: the batch job (run daily from cron) that answers queued misses and swaps in a new snapshot.

    intentkg serve refresh -w ws            # e.g. cron: 0 3 * * * intentkg serve refresh -w /srv/ws

Every queued key gets an entry in the new snapshot, even when nothing survived the filters (an
empty list, ``source: tier2``), so a later identical request is a hit and is not queued again.
Junk keys (:func:`intentkg.serve.miss_admission.junk_reason`, e.g. queued by an older server) are
dropped from the queue without generating anything, and so are keys asked for by fewer than
``min_clients`` distinct clients when that is set above 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from intentkg.serve.keys import encode
from intentkg.serve.miss_admission import junk_reason
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
    junk: int = 0  # queued keys dropped without generating anything
    too_few_clients: int = 0  # left in the queue: asked by fewer than min_clients clients so far


def refresh(writer: SnapshotWriter, queue: MissQueue, fill: Fill, limit: int | None = None,
            min_clients: int = 1) -> RefreshResult:
    pending = queue.pending()
    junk = [key for key, _ in pending if junk_reason(key)]
    queue.done(junk)
    keys = [key for key, _ in pending if not junk_reason(key)]
    few = 0
    if min_clients > 1:
        wanted = [key for key in keys if queue.clients(key) >= min_clients]
        few, keys = len(keys) - len(wanted), wanted
    keys = keys[:limit] if limit else keys
    if not keys:
        return RefreshResult(None, 0, 0, 0, 0, len(junk), few)
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
    return RefreshResult(version, len(keys), len(filled), empty, carried, len(junk), few)


def precompute(writer: SnapshotWriter, items: Iterable[tuple[str, str]], keep_tier2: bool = True) -> tuple[str, int]:
    """Write tier-1 items as a new snapshot, carrying over tier-2 entries already answered."""
    new = dict(items)
    if keep_tier2:
        for key, value in writer.items():
            if key not in new and '"source":"tier2"' in value:
                new[key] = value
    return writer.write_snapshot(new.items()), len(new)
