"""Which behaviours to generate for: all of them, or a seeded sample balanced by kind and category.

With ``limit``, behaviours are dealt round-robin: kinds alternate, and within a kind the categories
take turns, each category's behaviours in a seeded pseudo-random order. The first ``limit`` dealt
are kept, so a larger limit always extends a smaller one (and reuses its cached calls).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

import pyarrow as pa
import pyarrow.compute as pc

from intentkg.generate.config import SelectionSettings


def _rank(seed: int, behavior_id: str) -> bytes:
    return hashlib.sha256(f"{seed}:{behavior_id}".encode()).digest()[:8]


def _round_robin(queues: list[list[int]]) -> list[int]:
    order, depth = [], 0
    while True:
        added = False
        for queue in queues:
            if depth < len(queue):
                order.append(queue[depth])
                added = True
        if not added:
            return order
        depth += 1


def select_behaviors(behaviors: pa.Table, settings: SelectionSettings) -> pa.Table:
    mask = None
    if settings.kinds:
        mask = pc.is_in(behaviors.column("kind"), pa.array(settings.kinds))
    if settings.categories:
        in_category = pc.fill_null(pc.is_in(behaviors.column("category"), pa.array(settings.categories)), False)
        mask = in_category if mask is None else pc.and_(mask, in_category)
    table = behaviors.filter(mask) if mask is not None else behaviors
    if settings.limit is None or settings.limit >= table.num_rows:
        return table
    ids = table.column("behavior_id").to_pylist()
    kinds = table.column("kind").to_pylist()
    categories = table.column("category").to_pylist()
    groups: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, (kind, category) in enumerate(zip(kinds, categories)):
        groups[kind][category or ""].append(i)
    per_kind = []
    for kind in sorted(groups):
        queues = [sorted(rows, key=lambda i: _rank(settings.seed, ids[i]))
                  for _, rows in sorted(groups[kind].items())]
        per_kind.append(_round_robin(queues))
    chosen = _round_robin(per_kind)[: settings.limit]
    return table.take(pa.array(chosen, pa.int64()))
