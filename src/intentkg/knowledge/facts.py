"""The plain data a knowledge lookup returns: facts about one query, one product, or a pair.

A :class:`Fact` is one (relation, intention) with a score and the place it came from. Sources:

========================  =========================================================================
``query``                 an intention edge of the exact query node in the KG
``query_nearest``         an edge of the KG query nearest to the query by embedding (score x cosine)
``query_on_demand``       generated for the query on demand and kept by the filters
``product``               an intention edge of the exact product node
``product_nearest``       an edge of the KG product whose title is nearest by embedding
``product_catalogue``     generated from the catalogue product alone (its type), kept by the filters
========================  =========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

SOURCES = ("query", "query_nearest", "query_on_demand", "product", "product_nearest", "product_catalogue")


@dataclass(frozen=True)
class Fact:
    relation: str
    intention: str  # the intention's text as the KG shows it
    score: float
    source: str
    intention_id: str = ""  # KG node id (canonical intention); "" for on-demand facts
    neighbour: str = ""  # for *_nearest: the KG query text / product title it was borrowed from

    @property
    def key(self) -> tuple[str, str]:
        """Identity for de-duplication: the relation and the canonical intention."""
        from intentkg.kg.canonical import canonical

        return self.relation, self.intention_id or canonical(self.intention)


@dataclass
class PairKnowledge:
    """Knowledge for one (query, product) pair: the query's facts and the product's facts, best first."""

    query: list[Fact] = field(default_factory=list)
    product: list[Fact] = field(default_factory=list)

    @property
    def sources(self) -> set[str]:
        return {f.source for f in self.query} | {f.source for f in self.product}

    def __bool__(self) -> bool:
        return bool(self.query or self.product)


def best_first(facts: list[Fact], limit: int | None = None) -> list[Fact]:
    """De-duplicate by (relation, intention), keep the best score, order by score then text (stable)."""
    best: dict[tuple[str, str], Fact] = {}
    for fact in facts:
        kept = best.get(fact.key)
        if kept is None or fact.score > kept.score:
            best[fact.key] = fact
    ordered = sorted(best.values(), key=lambda f: (-round(f.score, 9), f.relation, f.intention))
    return ordered if limit is None else ordered[:limit]
