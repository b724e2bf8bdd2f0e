"""Tier 1: precompute knowledge for the head queries (by purchases in the behaviour logs) and for
every catalogue product, through the one knowledge lookup the ESCI evaluation uses
(:class:`intentkg.knowledge.lookup.KnowledgeLookup`: the same ranking, and the same embedding
nearest-neighbour fallback for a query or product without facts of its own).

The nearest fallback is computed here, at precompute time (and by the refresh job for queued
misses), never on the request path: a served entry is exactly what the evaluation's lookup gives
that query or product, so ``/v1/knowledge/pair`` returns the text the evaluation injects.

With ``config.leave_out_query`` the evaluation's leave-own-out is precomputed as well (keys in
:mod:`intentkg.serve.keys`, what changes in :mod:`intentkg.knowledge.leave_out`), so
``/v1/knowledge/pair?leave_out_query=true`` returns the text of an evaluation that leaves each pair's
own query out.

Product entries hold the catalogue stage's product-only facts too when the workspace has one
(``intentkg catalogue``), merged as the evaluation merges them (:func:`intentkg.eval.sources.add_catalogue`,
on by default there), so a served product side is the measured one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from intentkg import duck
from intentkg.knowledge.facts import Fact, best_first
from intentkg.knowledge.lookup import Embed, KnowledgeLookup, LookupConfig
from intentkg.serve.keys import encode, left_out_product_key, left_out_query_key
from intentkg.workspace import Workspace

BATCH = 5_000


def tier1_items(workspace: Workspace | str | Path, top_queries: int = 100_000, config: LookupConfig | None = None,
                embed: Embed | None = None) -> Iterator[tuple[str, str]]:
    """(key, value) for the ``top_queries`` most purchased queries and every product of the catalogue
    (ingest) and the KG. ``embed``: default the workspace's cached bundled MiniLM when ``config.nearest``."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    config = config or LookupConfig()
    lookup = KnowledgeLookup(ws, config, embed=embed if embed is not None or not config.nearest
                             else KnowledgeLookup.default_embed(ws))
    behaviors = duck.quote_path(ws.table_path("ingest", "behaviors"))
    queries = duck.run(lookup.con, f"""
        SELECT "left", any_value(left_text) FROM read_parquet({behaviors}) WHERE kind = 'search_buy'
        GROUP BY "left" ORDER BY sum(support) DESC, "left" LIMIT {int(top_queries)}""")
    for start in range(0, len(queries), BATCH):
        chunk = queries[start:start + BATCH]
        for (query, text), facts in zip(chunk, lookup.for_queries([q for q, _ in chunk])):
            if facts:
                yield "q:" + query, encode("query", text, [asdict(f) for f in facts], "tier1")
    products = lookup.catalogue()
    from intentkg.knowledge.catalogue import catalogue_facts

    extra = catalogue_facts(ws) or {}

    def with_catalogue(product_id: str, facts: list[Fact]) -> list[Fact]:
        more = extra.get(str(product_id))
        return best_first(facts + more) if more else facts

    if config.leave_out_query:
        from intentkg.knowledge.leave_out import left_out_entries

        titles, texts = dict(products), dict(queries)
        for query, facts, by_product in left_out_entries(lookup, list(texts), products):
            yield left_out_query_key(query), encode("query", texts.get(query, query), [asdict(f) for f in facts],
                                                    "tier1")
            for product_id, product_facts in by_product.items():
                yield left_out_product_key(query, product_id), encode(
                    "product", titles.get(product_id, product_id),
                    [asdict(f) for f in with_catalogue(product_id, product_facts)], "tier1")
    for start in range(0, len(products), BATCH):
        chunk = products[start:start + BATCH]
        found = lookup.for_products([p for p, _ in chunk], [t for _, t in chunk])
        for (product_id, title), facts in zip(chunk, found):
            facts = with_catalogue(product_id, facts)
            if facts:
                yield "p:" + product_id, encode("product", title, [asdict(f) for f in facts], "tier1")
