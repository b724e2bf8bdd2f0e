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
from intentkg.knowledge.facts import SOURCES, PairKnowledge
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


def protocol_groups(data: EsciData, config: EvalConfig) -> list[tuple[np.ndarray, list[str]]]:
    """(pair rows, queries hidden from the KG when those rows' knowledge is looked up), per group.

    ``split`` (default): the test split's queries are hidden for every pair; with ``--folds`` the
    rows of each fold are looked up with that fold's queries hidden. ``test``: the same hiding
    without leave-own-out; ``all``: every evaluated query hidden; ``own`` / ``none``: nothing hidden.
    """
    mode = config.knowledge.unseen
    queries = data.pairs.column("query").to_pylist()
    every = np.arange(len(queries))
    if mode in ("none", "own"):
        return [(every, [])]
    if mode == "all":
        return [(every, sorted(set(queries)))]
    if config.data.folds > 1:
        fold = np.asarray(data.pairs.column("fold").to_numpy())
        groups = [np.flatnonzero(fold == k) for k in sorted(set(fold.tolist()))]
        return [(rows, sorted({queries[i] for i in rows})) for rows in groups]
    test = data.split_mask(config.data.test_split)
    return [(every, sorted({q for q, t in zip(queries, test) if t}))]


def leaves_own_out(config: EvalConfig) -> bool:
    """Whether each pair's knowledge is computed as if its own query had never been logged."""
    return config.knowledge.unseen in ("split", "own")


def _kg_knowledge(ws: Workspace, data: EsciData, config: EvalConfig, embed, stats: dict) -> list[PairKnowledge]:
    queries = data.pairs.column("query").to_pylist()
    products = data.pairs.column("product_id").to_pylist()
    titles = data.pairs.column("title").to_pylist()
    kcfg = config.knowledge
    pairs: list[PairKnowledge | None] = [None] * len(queries)
    stats["hidden_queries"] = stats["hidden_behaviors"] = 0
    for rows, hidden in protocol_groups(data, config):
        lookup = KnowledgeLookup(ws, LookupConfig(nearest=kcfg.nearest, nearest_k=kcfg.nearest_k,
                                                  min_similarity=kcfg.min_similarity, hide_queries=hidden,
                                                  leave_out_query=leaves_own_out(config)), embed=embed)
        found = lookup.for_pairs([queries[i] for i in rows], [products[i] for i in rows], [titles[i] for i in rows])
        for i, knowledge in zip(rows, found):
            pairs[i] = knowledge
        looked = lookup.stats()
        stats["hidden_queries"] += len(hidden)
        stats["hidden_behaviors"] += looked.pop("hidden_behaviors")
        stats.update(looked)
    return pairs  # type: ignore[return-value]


def gather_knowledge(ws: Workspace, data: EsciData, config: EvalConfig,
                     embed: Callable[[list[str]], np.ndarray] | None) -> Knowledge:
    queries = data.pairs.column("query").to_pylist()
    products = data.pairs.column("product_id").to_pylist()
    kcfg = config.knowledge
    stats: dict = {"unseen": kcfg.unseen, "leave_own_out": leaves_own_out(config)}
    if kcfg.kg:
        pairs = _kg_knowledge(ws, data, config, embed, stats)
    else:
        pairs = [PairKnowledge() for _ in queries]
    if kcfg.on_demand:
        from intentkg.knowledge.on_demand import generate_for_queries, with_on_demand

        wanted = sorted({q for q, k in zip(queries, pairs)
                         if kcfg.on_demand_scope == "unseen" or not any(f.source == "query" for f in k.query)})
        on_demand_stats: dict = {"queries": len(wanted)}
        facts = generate_for_queries(ws, wanted, kcfg.on_demand_config, stats=on_demand_stats,
                                     engine=config.engine if config.engine.name != "local" else None,
                                     model=kcfg.on_demand_model)
        generated = {query_key(q): f for q, f in zip(wanted, facts)}
        stats["on_demand"] = on_demand_stats
        for q, k in zip(queries, pairs):
            k.query = with_on_demand(k.query, generated.get(query_key(q), []))
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
