"""Knowledge sources beyond the KG's behaviour edges, switched per evaluation (docs/eval.md).

- ``catalogue``: product-side facts generated from each catalogue product alone (the
  ``catalogue`` stage, :mod:`intentkg.knowledge.catalogue`), added to every pair's product side;
- ``relations``: keep only the facts of some relations (the by-relation table).

The query side's on-demand knowledge is :mod:`intentkg.knowledge.on_demand` (``--on-demand``);
behaviour knowledge is the KG lookup (``--kg``). :data:`ABLATION` names the source sets the
ablation compares.
"""

from __future__ import annotations

from typing import Sequence

from intentkg.knowledge.facts import PairKnowledge, best_first
from intentkg.workspace import Workspace

# name -> (kg, on_demand, catalogue): the source sets of the ablation table
ABLATION = {
    "product-only": (False, False, True),
    "query-only": (False, True, False),
    "behaviour": (True, False, False),
    "all": (True, True, True),
}


def add_catalogue(ws: Workspace, pairs: list[PairKnowledge], product_ids: Sequence[str]) -> dict:
    """Merge the catalogue stage's facts into each pair's product side (in place); returns stats."""
    from intentkg.knowledge.catalogue import catalogue_facts

    facts = catalogue_facts(ws)
    if facts is None:
        return {"used": False, "reason": f"no catalogue stage in {ws.root}: run `intentkg catalogue -w {ws.root}`"}
    hits = 0
    for k, pid in zip(pairs, product_ids):
        extra = facts.get(str(pid))
        if extra:
            hits += 1
            k.product = best_first(k.product + extra)
    return {"used": True, "products": len(facts), "pairs_with_facts": hits}


def keep_relations(pairs: list[PairKnowledge], relations: Sequence[str]) -> None:
    """Drop every fact whose relation is not in ``relations`` (in place)."""
    wanted = set(relations)
    for k in pairs:
        k.query = [f for f in k.query if f.relation in wanted]
        k.product = [f for f in k.product if f.relation in wanted]
