"""Tier 1: precompute knowledge for the head queries (by purchases in the behaviour logs) and for
every product in the KG, with the same lookup and scores the ESCI evaluation uses
(:class:`intentkg.knowledge.lookup.KnowledgeLookup`, exact heads only)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from intentkg import duck
from intentkg.knowledge.lookup import KnowledgeLookup, LookupConfig
from intentkg.serve.keys import encode
from intentkg.workspace import Workspace

BATCH = 5_000


def tier1_items(workspace: Workspace | str | Path, top_queries: int = 100_000,
                per_key: int = 10) -> Iterator[tuple[str, str]]:
    """(key, value) for every product of the KG and the ``top_queries`` most purchased queries."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    lookup = KnowledgeLookup(ws, LookupConfig(per_head=per_key, nearest=False))
    behaviors = duck.quote_path(ws.table_path("ingest", "behaviors"))
    queries = duck.run(lookup.con, f"""
        SELECT "left", any_value(left_text) FROM read_parquet({behaviors}) WHERE kind = 'search_buy'
        GROUP BY "left" ORDER BY sum(support) DESC, "left" LIMIT {int(top_queries)}""")
    for start in range(0, len(queries), BATCH):
        chunk = queries[start:start + BATCH]
        for (query, text), facts in zip(chunk, lookup.for_queries([q for q, _ in chunk])):
            if facts:
                yield "q:" + query, encode("query", text, [asdict(f) for f in facts], "tier1")
    products = duck.run(lookup.con, "SELECT substr(node_id, 9), text FROM nodes WHERE kind = 'product' "
                                    "ORDER BY node_id")
    for start in range(0, len(products), BATCH):
        chunk = products[start:start + BATCH]
        for (product_id, title), facts in zip(chunk, lookup.for_products([p for p, _ in chunk])):
            if facts:
                yield "p:" + product_id, encode("product", title, [asdict(f) for f in facts], "tier1")
