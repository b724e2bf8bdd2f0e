"""What the refresh job answers queued misses with: the KG first (it may have been rebuilt since the
last precompute), then knowledge generated and filtered on demand for queries the KG has never seen
(:mod:`intentkg.knowledge.on_demand`, the same batch path the ESCI evaluation uses)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from intentkg.knowledge.lookup import KnowledgeLookup, LookupConfig
from intentkg.serve.keys import encode
from intentkg.serve.refresh import Fill


def make_fill(workspace: str | Path, config: Path | None = None, per_key: int = 10) -> Fill:
    def fill(keys: list[str]) -> dict[str, str]:
        lookup = KnowledgeLookup(workspace, LookupConfig(per_head=per_key, nearest=False))
        out: dict[str, str] = {}
        products = [k[2:] for k in keys if k.startswith("p:")]
        for product_id, facts in zip(products, lookup.for_products(products)):
            if facts:
                out["p:" + product_id] = encode("product", product_id, [asdict(f) for f in facts], "tier2")
        queries = [k[2:] for k in keys if k.startswith("q:")]
        unseen = []
        for query, facts in zip(queries, lookup.for_queries(queries)):
            if facts:
                out["q:" + query] = encode("query", query, [asdict(f) for f in facts], "tier2")
            else:
                unseen.append(query)
        if unseen:
            from intentkg.knowledge.on_demand import generate_for_queries

            for query, facts in zip(unseen, generate_for_queries(workspace, unseen, config)):
                if facts:
                    out["q:" + query] = encode("query", query, [asdict(f) for f in facts], "tier2")
        return out

    return fill
