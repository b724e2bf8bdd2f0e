"""The two input settings of the comparison: the same pairs, without and with knowledge text.

:func:`gather_knowledge` looks every pair up in the KG (exact query / product, else the nearest
KG heads), optionally generates knowledge on demand for queries the KG cannot answer, renders the
text with the template and measures coverage. :func:`bi_texts` / :func:`cross_texts` give each
encoder's input strings for a setting; nothing else differs between the settings.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from intentkg.eval.config import EvalConfig
from intentkg.eval.esci_data import EsciData
from intentkg.eval.features import joint_text
from intentkg.knowledge.facts import SOURCES, PairKnowledge, best_first
from intentkg.knowledge.lookup import KnowledgeLookup, LookupConfig
from intentkg.knowledge.text import KnowledgeTemplate, with_knowledge
from intentkg.query_key import query_key
from intentkg.workspace import Workspace


@dataclass
class Knowledge:
    pairs: list[PairKnowledge]
    query_text: list[str]
    product_text: list[str]
    pair_text: list[str]
    coverage: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)


def hidden_queries(data: EsciData, config: EvalConfig) -> list[str]:
    """Queries hidden from the KG for everyone (unseen = test or all)."""
    mode = config.knowledge.unseen
    if mode in ("none", "own"):
        return []
    queries = data.pairs.column("query").to_pylist()
    if mode == "all" or config.data.folds > 1:
        return sorted(set(queries))
    test = data.split_mask(config.data.test_split)
    return sorted({q for q, t in zip(queries, test) if t})


def gather_knowledge(ws: Workspace, data: EsciData, config: EvalConfig,
                     embed: Callable[[list[str]], np.ndarray] | None) -> Knowledge:
    queries = data.pairs.column("query").to_pylist()
    products = data.pairs.column("product_id").to_pylist()
    titles = data.pairs.column("title").to_pylist()
    kcfg = config.knowledge
    hidden = hidden_queries(data, config)
    leave_out = kcfg.unseen == "own"
    stats: dict = {"unseen": kcfg.unseen, "hidden_queries": len(hidden)}
    if kcfg.kg:
        lookup = KnowledgeLookup(ws, LookupConfig(nearest=kcfg.nearest, nearest_k=kcfg.nearest_k,
                                                  min_similarity=kcfg.min_similarity, hide_queries=hidden),
                                 embed=embed)
        pairs = lookup.for_pairs(queries, products, titles, leave_query_out=leave_out)
        stats.update(lookup.stats())
    else:
        pairs = [PairKnowledge() for _ in queries]
    if kcfg.on_demand:
        from intentkg.knowledge.on_demand import generate_for_queries

        wanted = sorted({q for q, k in zip(queries, pairs)
                         if kcfg.on_demand_scope == "unseen" or not any(f.source == "query" for f in k.query)})
        on_demand_stats: dict = {"queries": len(wanted)}
        facts = generate_for_queries(ws, wanted, kcfg.on_demand_config, stats=on_demand_stats)
        generated = {query_key(q): f for q, f in zip(wanted, facts)}
        stats["on_demand"] = on_demand_stats
        for q, k in zip(queries, pairs):
            extra = generated.get(query_key(q))
            if extra:
                k.query = best_first([f for f in k.query if f.source != "query_nearest"] + extra)
    if kcfg.catalogue or kcfg.relations is not None:
        from intentkg.eval.sources import add_catalogue, keep_relations

        if kcfg.catalogue:
            stats["catalogue"] = add_catalogue(ws, pairs, products)
        if kcfg.relations is not None:
            keep_relations(pairs, kcfg.relations)
    template = KnowledgeTemplate(top_k=kcfg.top_k)
    result = Knowledge(pairs, [template.query_text(k.query) for k in pairs],
                       [template.product_text(k.product) for k in pairs],
                       [template.pair_text(k) for k in pairs], stats=stats)
    result.coverage = coverage(data, config, result)
    return result


def _share(values: list[bool]) -> float:
    return round(float(np.mean(values)), 4) if values else 0.0


def coverage(data: EsciData, config: EvalConfig, knowledge: Knowledge) -> dict:
    """Share of pairs with any knowledge, per side and per source, for the evaluated and the training rows."""
    splits = data.pairs.column("split").to_pylist()
    out: dict = {}
    for split in sorted(set(splits)):
        rows = [i for i, s in enumerate(splits) if s == split]
        used = [knowledge.pairs[i] for i in rows]
        sources = Counter(s for k in used for s in k.sources)
        out[split] = {
            "pairs": len(rows),
            "any": _share([bool(knowledge.pair_text[i]) for i in rows]),
            "query_side": _share([bool(k.query) for k in used]),
            "product_side": _share([bool(k.product) for k in used]),
            "by_source": {s: round(sources.get(s, 0) / max(len(rows), 1), 4) for s in SOURCES},
            "mean_facts": round(float(np.mean([len(k.query) + len(k.product) for k in used])), 2) if used else 0.0,
        }
    return out


def bi_texts(data: EsciData, knowledge: Knowledge, setting: str) -> tuple[list[str], list[str]]:
    queries = data.pairs.column("query").to_pylist()
    products = data.pairs.column("product_text").to_pylist()
    if setting == "without":
        return queries, products
    return ([with_knowledge(q, k) for q, k in zip(queries, knowledge.query_text)],
            [with_knowledge(p, k) for p, k in zip(products, knowledge.product_text)])


def cross_texts(data: EsciData, knowledge: Knowledge, setting: str) -> list[str]:
    queries = data.pairs.column("query").to_pylist()
    products = data.pairs.column("product_text").to_pylist()
    pair = knowledge.pair_text if setting == "with" else [""] * len(queries)
    return [joint_text(q, p, k) for q, p, k in zip(queries, products, pair)]
