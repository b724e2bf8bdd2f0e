"""KG knowledge for a query, a product, or a (query, product) pair, with a nearest-head fallback.

    lookup = KnowledgeLookup("ws", LookupConfig(nearest=True), embed=my_embed)
    lookup.for_queries(["gear for winter camping"])        # -> [[Fact, ...]]
    lookup.for_products(["IKG0000012"], ["Arctic Air Mattress"])
    lookup.for_pairs(queries, product_ids, titles)         # -> [PairKnowledge, ...]

Exact hits: the intention edges (not the structural ones) of the query node / product node.
Fallback: when a query (product) has no edge, the ``nearest_k`` KG query nodes (product nodes) whose
text is closest by embedding cosine, at least ``min_similarity``, lend theirs, score x cosine.

Score of an edge: :func:`intentkg.kg.ranking.edge_score`, ``plausibility * (1 + ln support)``,
support = distinct behaviours behind it; an edge without a critic score counts as plausibility 0.5.

Keeping evaluation queries out of their own knowledge:

- ``hide_queries`` (global): every search_buy behaviour of those queries is removed from the
  edges' support (an edge left without support is dropped), so neither their own node nor a
  product edge learnt only from them can answer, for anyone.
- ``LookupConfig(leave_out_query=True)`` (per pair, :meth:`for_pairs`): each pair's knowledge is
  computed as if its own query had never been logged: the query's node is skipped (it answers
  through its nearest *other* queries) and the query's behaviours are subtracted from the product's
  edges. Training and test pairs then get the same kind of knowledge. The one flag the evaluation
  sets (its leave-own-out), ``serve precompute --leave-out-query`` precomputes and
  ``/v1/knowledge/pair?leave_out_query=true`` and ``kg query --leave-out-query`` take.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np
import pyarrow as pa

from intentkg import duck
from intentkg.errors import IntentkgError
from intentkg.kg.canonical import node_id
from intentkg.kg.head_edges import HeadEdges
from intentkg.kg.query import query_node
from intentkg.kg.ranking import edge_score
from intentkg.knowledge.facts import Fact, PairKnowledge, best_first
from intentkg.query_key import query_key
from intentkg.workspace import Workspace

Embed = Callable[[list[str]], np.ndarray]  # texts -> (n, d) float32, unit rows
NONE: frozenset[str] = frozenset()


class _Edge(NamedTuple):
    relation: str
    tail: str
    intention: str
    plausibility: float | None
    support: int  # distinct behaviours, hidden ones not counted
    behaviors: frozenset[str] | None  # their ids, when asked for (hiding, leave-out)


@dataclass
class LookupConfig:
    """The one lookup policy (evaluation, serving tiers 1 and 2, ``kg query``)."""

    per_head: int = 20  # facts kept per side, best first (the text template keeps its own top-k)
    nearest: bool = True  # borrow from the embedding-nearest KG heads when a head has no facts
    nearest_k: int = 3
    min_similarity: float = 0.6
    hide_queries: Sequence[str] = field(default_factory=tuple)
    leave_out_query: bool = False  # a pair's knowledge as if its own query had never been logged


class KnowledgeLookup:
    def __init__(self, workspace: str | Path | Workspace, config: LookupConfig | None = None,
                 embed: Embed | None = None):
        self.ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
        self.config = config or LookupConfig()
        self.embed = embed
        folder = self.ws.read_dir("kg")  # refuses a kg whose last build failed
        if not (folder / "nodes.parquet").exists() or not (folder / "edges").exists():
            raise IntentkgError(f"{folder} has no KG yet: run `intentkg build -w {self.ws.root}` first")
        self.edges = HeadEdges(self.ws)  # the one point lookup of the KG (its derived index, else a scan)
        self.con = duck.connect()
        duck.run(self.con, f"CREATE VIEW nodes AS SELECT * FROM read_parquet({duck.quote_path(folder / 'nodes.parquet')})")
        self.hidden = self._hide(list(self.config.hide_queries))
        self.hidden_behaviors = len(self.hidden)
        self._index: dict[str, tuple[list[str], list[str], np.ndarray | None]] = {}
        self._behaviors_path = self.ws.table_path("ingest", "behaviors")

    # -- hiding ----------------------------------------------------------------------------
    def _hide(self, queries: list[str]) -> frozenset[str]:
        """The search_buy behaviours of the given queries: they count for no edge (an edge left without
        support is dropped), so neither the queries' own nodes nor a product edge learnt only from them
        can answer, for anyone."""
        if not queries:
            return NONE
        path = self.ws.table_path("ingest", "behaviors")
        if not path.exists():
            raise IntentkgError(f"{path} is missing: hiding evaluation queries needs the ingest stage's behaviours")
        self.con.register("hidden_queries", pa.table({"q": sorted({query_key(q) for q in queries})}))
        rows = duck.run(self.con, f"""SELECT DISTINCT behavior_id FROM read_parquet({duck.quote_path(path)})
                                      WHERE kind = 'search_buy' AND "left" IN (SELECT q FROM hidden_queries)""")
        self.con.unregister("hidden_queries")
        return frozenset(r[0] for r in rows)

    def query_behaviors(self, queries: Sequence[str]) -> dict[str, frozenset[str]]:
        """search_buy behaviour ids of each query (normalised), from the ingest stage."""
        keys = sorted({query_key(q) for q in queries})
        if not keys or not self._behaviors_path.exists():
            return {}
        self.con.register("asked_queries", pa.table({"q": keys}))
        rows = duck.run(self.con, f"""SELECT "left", list(behavior_id) FROM read_parquet(
            {duck.quote_path(self._behaviors_path)}) WHERE kind = 'search_buy' AND "left" IN
            (SELECT q FROM asked_queries) GROUP BY "left" """)
        self.con.unregister("asked_queries")
        return {r[0]: frozenset(r[1]) for r in rows}

    # -- edges of heads --------------------------------------------------------------------
    def _edges(self, heads: Sequence[str], behaviors: bool = False) -> dict[str, list[_Edge]]:
        """Intention edges per head; ``behaviors``: with their behaviour ids (to exclude some per head)."""
        with_ids = behaviors or bool(self.hidden)
        found: dict[str, list[_Edge]] = {}
        for row in self.edges.of(heads, behaviors=with_ids).to_pylist():
            ids = frozenset(row["behavior_ids"]) - self.hidden if with_ids else None
            support = len(ids) if ids is not None else row["support"]
            if support:
                found.setdefault(row["head"], []).append(_Edge(row["relation"], row["tail"], row["intention"],
                                                                row["plausibility"], support, ids))
        return found

    def _facts(self, edges: list[_Edge], source: str, exclude: frozenset[str] = NONE, factor: float = 1.0,
               neighbour: str = "") -> list[Fact]:
        facts = []
        for e in edges:
            support = len(e.behaviors - exclude) if exclude and e.behaviors is not None else e.support
            if support:
                facts.append(Fact(e.relation, e.intention, edge_score(e.plausibility, support) * factor,
                                  source, e.tail, neighbour))
        return best_first(facts, self.config.per_head)

    # -- nearest ---------------------------------------------------------------------------
    def _nearest_index(self, kind: str) -> tuple[list[str], list[str], np.ndarray | None]:
        """(head ids, texts, unit vectors) of the KG heads of ``kind`` that have at least one fact."""
        if kind not in self._index:
            hidden = self.edges.hidden_table(self.hidden) if self.hidden else None
            self.con.register("fact_heads", pa.table({"head": pa.array(self.edges.heads(kind, hidden), pa.string())}))
            rows = duck.run(self.con, """SELECT n.node_id, n.text FROM nodes n
                WHERE n.kind = ? AND n.node_id IN (SELECT head FROM fact_heads) ORDER BY n.node_id""", [kind])
            self.con.unregister("fact_heads")
            heads, texts = [r[0] for r in rows], [r[1] for r in rows]
            vectors = self.embed(texts) if (texts and self.embed is not None) else None
            self._index[kind] = (heads, texts, vectors)
        return self._index[kind]

    def _neighbours(self, kind: str, texts: list[str], skip: list[str] | None = None
                    ) -> list[list[tuple[str, str, float]]]:
        """Up to ``nearest_k`` (head, text, cosine) per text, above ``min_similarity``; ``skip[i]``
        is a head that text i may not borrow from (its own node)."""
        out: list[list[tuple[str, str, float]]] = [[] for _ in texts]
        if not texts or not self.config.nearest or self.embed is None:
            return out
        heads, head_texts, vectors = self._nearest_index(kind)
        if vectors is None or not len(heads):
            return out
        k = min(self.config.nearest_k + 1, len(heads))
        asked = self.embed(list(texts))
        for start in range(0, len(texts), 1024):
            sims = asked[start:start + 1024] @ vectors.T
            if k < len(heads):
                top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            else:
                top = np.tile(np.arange(len(heads)), (len(sims), 1))
            for offset, (row, cols) in enumerate(zip(sims, top)):
                i = start + offset
                cols = sorted(cols, key=lambda c: (-row[c], heads[c]))
                chosen = [(heads[c], head_texts[c], float(row[c])) for c in cols
                          if row[c] >= self.config.min_similarity and not (skip and heads[c] == skip[i])]
                out[i] = chosen[: self.config.nearest_k]
        return out

    def nearest_heads(self, kind: str, texts: Sequence[str]) -> list[list[str]]:
        """The KG heads each text borrows from when it has no facts of its own (the nearest policy)."""
        return [[head for head, _, _ in picks] for picks in self._neighbours(kind, list(texts))]

    def _borrow(self, kind: str, texts: list[str], source: str, skip: list[str] | None = None,
                exclude: list[frozenset[str]] | None = None) -> list[list[Fact]]:
        picks = self._neighbours(kind, texts, skip)
        edges = self._edges([h for p in picks for h, _, _ in p], behaviors=exclude is not None)
        return [best_first([f for head, text, sim in chosen
                            for f in self._facts(edges.get(head, []), source, exclude[i] if exclude else NONE,
                                                 sim, text)], self.config.per_head)
                for i, chosen in enumerate(picks)]

    # -- public ----------------------------------------------------------------------------
    def for_queries(self, queries: Sequence[str], leave_out: bool = False) -> list[list[Fact]]:
        """Facts per query; ``leave_out``: as if the query had never been logged (nearest others only)."""
        keys = [query_key(q) for q in queries]
        heads = [query_node(q) for q in queries]
        edges = {} if leave_out else self._edges(heads)
        out = [self._facts(edges.get(h, []), "query") for h in heads]
        missing = sorted({k for k, facts in zip(keys, out) if not facts})
        nearest = dict(zip(missing, self._borrow("query", missing, "query_nearest",
                                                 skip=[query_node(k) for k in missing] if leave_out else None)))
        return [facts or nearest.get(k, []) for k, facts in zip(keys, out)]

    def for_products(self, product_ids: Sequence[str], titles: Sequence[str] | None = None,
                     exclude: Sequence[frozenset[str]] | None = None) -> list[list[Fact]]:
        """Facts per product; titles enable the nearest fallback; ``exclude[i]``: behaviour ids that
        may not count for product i."""
        heads = [node_id("product", str(p)) for p in product_ids]
        edges = self._edges(heads, behaviors=exclude is not None)
        out = [self._facts(edges.get(h, []), "product", exclude[i] if exclude else NONE)
               for i, h in enumerate(heads)]
        if titles is not None:
            missing = [i for i, facts in enumerate(out) if not facts and titles[i]]
            borrowed = self._borrow("product", [titles[i] for i in missing], "product_nearest",
                                    exclude=[exclude[i] for i in missing] if exclude else None)
            for i, facts in zip(missing, borrowed):
                out[i] = facts
        return out

    def for_pairs(self, queries: Sequence[str], product_ids: Sequence[str], titles: Sequence[str] | None = None
                  ) -> list[PairKnowledge]:
        """Knowledge per (query, product) pair; with ``config.leave_out_query``, as if the pair's query
        had never been logged."""
        leave_out = self.config.leave_out_query
        unique_q = sorted(set(queries))
        by_query = dict(zip(unique_q, self.for_queries(unique_q, leave_out=leave_out)))
        titles = list(titles) if titles is not None else None
        own = self.query_behaviors(unique_q) if leave_out else {}
        keys = sorted({(p, titles[i] if titles else "", own.get(query_key(queries[i]), NONE) if own else NONE)
                       for i, p in enumerate(product_ids)}, key=lambda k: (k[0], k[1], sorted(k[2])))
        facts = self.for_products([k[0] for k in keys], [k[1] for k in keys] if titles is not None else None,
                                  [k[2] for k in keys] if own else None)
        by_product = dict(zip(keys, facts))
        return [PairKnowledge(by_query[q], by_product[(p, titles[i] if titles else "",
                                                       own.get(query_key(q), NONE) if own else NONE)])
                for i, (q, p) in enumerate(zip(queries, product_ids))]

    # -- catalogue and embedding ---------------------------------------------------------
    @staticmethod
    def default_embed(workspace: str | Path | Workspace) -> Embed:
        """The nearest policy's embedding: the bundled MiniLM, cached in the workspace (the vectors
        the evaluation's bi-encoder uses for the same texts)."""
        from intentkg.embed.cached import CachedEmbedder, cache_root

        ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
        loaded: list[CachedEmbedder] = []

        def embed(texts: list[str]) -> np.ndarray:  # the model loads on the first miss only
            if not loaded:
                loaded.append(CachedEmbedder(cache_root=cache_root(ws.root)))
            return loaded[0].embed(texts, "nearest-head index")

        return embed

    def catalogue(self, product_ids: Sequence[str] | None = None) -> list[tuple[str, str]]:
        """(product_id, title) of every product in the catalogue (ingest) or the KG, by id; only
        ``product_ids`` when given. The catalogue's title wins over the KG node's text."""
        sources = ["SELECT substr(node_id, 9) AS product_id, text AS title, 1 AS rank FROM nodes WHERE kind = 'product'"]
        products = self.ws.table_path("ingest", "products")
        if products.exists():
            sources.append(f"SELECT product_id, title, 0 FROM read_parquet({duck.quote_path(products)})")
        where = "product_id IS NOT NULL"
        if product_ids is not None:
            self.con.register("asked_products", pa.table({"p": sorted({str(p) for p in product_ids})}))
            where += " AND product_id IN (SELECT p FROM asked_products)"
        rows = duck.run(self.con, f"""SELECT product_id, arg_min(title, rank) FROM ({' UNION ALL '.join(sources)})
                                      WHERE {where} GROUP BY product_id ORDER BY product_id""")
        return [(str(r[0]), r[1] or "") for r in rows]

    def titles(self, product_ids: Sequence[str]) -> dict[str, str]:
        """Catalogue titles of the given products (those it knows)."""
        return dict(self.catalogue(product_ids)) if product_ids else {}

    def stats(self) -> dict[str, int]:
        hidden = self.edges.hidden_table(self.hidden) if self.hidden else None
        return {"query_heads": len(self.edges.heads("query", hidden)),
                "product_heads": len(self.edges.heads("product", hidden)), "hidden_behaviors": self.hidden_behaviors}
