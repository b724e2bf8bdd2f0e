"""What the refresh job answers queued misses with: the one knowledge lookup the evaluation uses
(the KG may have been rebuilt since the last precompute: exact facts, else the embedding-nearest
KG queries / products), then, for a query without an exact KG hit, knowledge generated and filtered
on demand (:mod:`intentkg.knowledge.on_demand`, the batch path the evaluation's ``--on-demand``
uses, merged the same way: generated facts replace borrowed ones)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from intentkg.knowledge.lookup import KnowledgeLookup, LookupConfig
from intentkg.serve.keys import encode
from intentkg.serve.refresh import Fill


def make_fill(workspace: str | Path, config: Path | None = None, lookup_config: LookupConfig | None = None,
              on_demand: bool = True, engine=None, model: str | None = None, stats: dict | None = None) -> Fill:
    """``engine`` (:class:`~intentkg.engine.EngineSettings`): where on-demand generation and filtering run;
    ``model``: the on-demand generator instead of the configured one (e.g. the distilled student);
    ``stats`` receives what on-demand generation did and which generator (with its lineage) it ran."""
    def fill(keys: list[str]) -> dict[str, str]:
        from intentkg.knowledge.on_demand import generate_for_queries, with_on_demand

        settings = lookup_config or LookupConfig()
        lookup = KnowledgeLookup(workspace, settings,
                                 embed=KnowledgeLookup.default_embed(workspace) if settings.nearest else None)
        out: dict[str, str] = {}
        products = [k[2:] for k in keys if k.startswith("p:")]
        titles = lookup.titles(products)
        for product_id, facts in zip(products, lookup.for_products(products, [titles.get(p, "") for p in products])):
            if facts:
                out["p:" + product_id] = encode("product", titles.get(product_id) or product_id,
                                                [asdict(f) for f in facts], "tier2")
        queries = [k[2:] for k in keys if k.startswith("q:")]
        found = lookup.for_queries(queries)
        if on_demand:
            wanted = [q for q, facts in zip(queries, found) if not any(f.source == "query" for f in facts)]
            generated = dict(zip(wanted, generate_for_queries(workspace, wanted, config, stats=stats, engine=engine,
                                                              model=model))) if wanted else {}
            found = [with_on_demand(facts, generated.get(q, [])) for q, facts in zip(queries, found)]
        for query, facts in zip(queries, found):
            if facts:
                out["q:" + query] = encode("query", query, [asdict(f) for f in facts], "tier2")
        return out

    return fill
