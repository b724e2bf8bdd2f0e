"""KG knowledge for a query, a product, or a (query, product) pair, with a nearest-head fallback.

    lookup = KnowledgeLookup("ws", LookupConfig(nearest=True), embed=my_embed)
    lookup.for_queries(["gear for winter camping"])        # -> [[Fact, ...]]
    lookup.for_products(["IKG0000012"], ["Arctic Air Mattress"])
    lookup.for_pairs(queries, product_ids, titles)         # -> [PairKnowledge, ...]

Exact hits: the intention edges (not the structural ones) of the query node / product node.
Fallback: when a query (product) has no edge, the ``nearest_k`` KG query nodes (product nodes) whose
text is closest by embedding cosine, at least ``min_similarity``, lend theirs, score x cosine.

Score of an edge: ``plausibility * (1 + ln support)``; an edge without a critic score counts as
plausibility 0.5. ``hide_queries`` treats those queries as unseen: every search_buy behaviour of
theirs is removed from the edges' support (an edge left without support is dropped), so neither
their own node nor a product's edge learnt only from them can answer. Evaluations use it to keep
test queries out of the knowledge they are scored with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pyarrow as pa

from intentkg import duck
from intentkg.errors import IntentkgError
from intentkg.kg.build import STRUCTURAL
from intentkg.kg.canonical import node_id
from intentkg.kg.query import edges_source, query_node
from intentkg.knowledge.facts import Fact, PairKnowledge, best_first
from intentkg.workspace import Workspace

Embed = Callable[[list[str]], np.ndarray]  # texts -> (n, d) float32, unit rows


def normalise_query(query: str) -> str:
    """The form ingest stores (lower case, whitespace collapsed); the key of a query node."""
    return " ".join(str(query).lower().split())


@dataclass
class LookupConfig:
    per_head: int = 20  # facts fetched per KG head, best first (the text template keeps its own top-k)
    nearest: bool = True
    nearest_k: int = 3
    min_similarity: float = 0.6
    hide_queries: Sequence[str] = field(default_factory=tuple)


class KnowledgeLookup:
    def __init__(self, workspace: str | Path | Workspace, config: LookupConfig | None = None,
                 embed: Embed | None = None):
        self.ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
        self.config = config or LookupConfig()
        self.embed = embed
        folder = self.ws.stage_dir("kg")
        if not (folder / "nodes.parquet").exists() or not (folder / "edges").exists():
            raise IntentkgError(f"{folder} has no KG yet: run `intentkg build -w {self.ws.root}` first")
        self.con = duck.connect()
        duck.run(self.con, f"CREATE VIEW edges AS SELECT * FROM {edges_source(folder / 'edges')}")
        duck.run(self.con, f"CREATE VIEW nodes AS SELECT * FROM read_parquet({duck.quote_path(folder / 'nodes.parquet')})")
        structural = ", ".join(f"'{r}'" for r in STRUCTURAL)
        duck.run(self.con, f"""CREATE TEMP TABLE iedges AS
            SELECT head, relation, tail, plausibility, support, behavior_ids FROM edges
            WHERE relation NOT IN ({structural}) AND (head LIKE 'query:%' OR head LIKE 'product:%')""")
        self.hidden_behaviors = self._hide(list(self.config.hide_queries))
        duck.run(self.con, """CREATE TEMP TABLE facts AS
            SELECT e.head, e.relation, e.tail, n.text AS intention,
                   coalesce(e.plausibility, 0.5) * (1 + ln(greatest(e.support, 1))) AS score
            FROM iedges e JOIN nodes n ON n.node_id = e.tail""")
        self._index: dict[str, tuple[list[str], list[str], np.ndarray | None]] = {}

    # -- hiding ----------------------------------------------------------------------------
    def _hide(self, queries: list[str]) -> int:
        """Drop the given queries' search_buy behaviours from the edges' support; returns how many."""
        if not queries:
            return 0
        path = self.ws.table_path("ingest", "behaviors")
        if not path.exists():
            raise IntentkgError(f"{path} is missing: hiding evaluation queries needs the ingest stage's behaviours")
        self.con.register("hidden_queries", pa.table({"q": sorted({normalise_query(q) for q in queries})}))
        duck.run(self.con, f"""CREATE TEMP TABLE hidden AS SELECT behavior_id FROM read_parquet({duck.quote_path(path)})
                               WHERE kind = 'search_buy' AND "left" IN (SELECT q FROM hidden_queries)""")
        hidden = duck.run(self.con, "SELECT count(*) FROM hidden")[0][0]
        if hidden:
            duck.run(self.con, """CREATE OR REPLACE TEMP TABLE iedges AS
                WITH kept AS (
                    SELECT head, relation, tail, count(DISTINCT b) AS support, list(DISTINCT b) AS behavior_ids
                    FROM (SELECT head, relation, tail, unnest(behavior_ids) AS b FROM iedges)
                    WHERE b NOT IN (SELECT behavior_id FROM hidden) GROUP BY head, relation, tail)
                SELECT e.head, e.relation, e.tail, e.plausibility, k.support, k.behavior_ids
                FROM iedges e JOIN kept k USING (head, relation, tail)""")
        return int(hidden)

    # -- exact -----------------------------------------------------------------------------
    def _exact(self, heads: list[str], source: str) -> dict[str, list[Fact]]:
        if not heads:
            return {}
        self.con.register("wanted", pa.table({"head": sorted(set(heads))}))
        rows = duck.to_arrow(self.con, """
            SELECT head, relation, tail, intention, score FROM (
                SELECT f.*, row_number() OVER (PARTITION BY head ORDER BY score DESC, intention, relation) AS r
                FROM facts f WHERE head IN (SELECT head FROM wanted))
            WHERE r <= ? ORDER BY head, r""", [self.config.per_head]).to_pylist()
        self.con.unregister("wanted")
        found: dict[str, list[Fact]] = {}
        for row in rows:
            found.setdefault(row["head"], []).append(
                Fact(row["relation"], row["intention"], float(row["score"]), source, row["tail"]))
        return found

    # -- nearest ---------------------------------------------------------------------------
    def _nearest_index(self, kind: str) -> tuple[list[str], list[str], np.ndarray | None]:
        """(head ids, texts, unit vectors) of the KG heads of ``kind`` that have at least one fact."""
        if kind not in self._index:
            rows = duck.run(self.con, f"""SELECT n.node_id, n.text FROM nodes n
                WHERE n.kind = ? AND n.node_id IN (SELECT DISTINCT head FROM facts WHERE head LIKE '{kind}:%')
                ORDER BY n.node_id""", [kind])
            heads, texts = [r[0] for r in rows], [r[1] for r in rows]
            vectors = self.embed(texts) if (texts and self.embed is not None) else None
            self._index[kind] = (heads, texts, vectors)
        return self._index[kind]

    def _nearest(self, kind: str, texts: list[str], source: str) -> list[list[Fact]]:
        out: list[list[Fact]] = [[] for _ in texts]
        if not texts or not self.config.nearest or self.embed is None:
            return out
        heads, head_texts, vectors = self._nearest_index(kind)
        if vectors is None or not len(heads):
            return out
        k = min(self.config.nearest_k, len(heads))
        asked = self.embed(list(texts))
        picks: list[list[tuple[str, str, float]]] = []
        for start in range(0, len(texts), 1024):
            sims = asked[start:start + 1024] @ vectors.T
            top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
            for row, cols in zip(sims, top):
                picks.append([(heads[c], head_texts[c], float(row[c])) for c in cols
                              if row[c] >= self.config.min_similarity])
        facts = self._exact([h for p in picks for h, _, _ in p], source)
        for i, chosen in enumerate(picks):
            borrowed = [Fact(f.relation, f.intention, f.score * sim, source, f.intention_id, text)
                        for head, text, sim in chosen for f in facts.get(head, [])]
            out[i] = best_first(borrowed, self.config.per_head)
        return out

    # -- public ----------------------------------------------------------------------------
    def for_queries(self, queries: Sequence[str]) -> list[list[Fact]]:
        heads = [query_node(q) for q in queries]
        exact = self._exact(heads, "query")
        out = [exact.get(h, []) for h in heads]
        missing = sorted({normalise_query(q) for q, facts in zip(queries, out) if not facts})
        nearest = dict(zip(missing, self._nearest("query", missing, "query_nearest")))
        return [facts or nearest.get(normalise_query(q), []) for q, facts in zip(queries, out)]

    def for_products(self, product_ids: Sequence[str], titles: Sequence[str] | None = None) -> list[list[Fact]]:
        heads = [node_id("product", str(p)) for p in product_ids]
        exact = self._exact(heads, "product")
        out = [exact.get(h, []) for h in heads]
        if titles is not None:
            missing = sorted({t for t, facts in zip(titles, out) if not facts and t})
            nearest = dict(zip(missing, self._nearest("product", missing, "product_nearest")))
            out = [facts or nearest.get(t, []) for t, facts in zip(titles, out)]
        return out

    def for_pairs(self, queries: Sequence[str], product_ids: Sequence[str],
                  titles: Sequence[str] | None = None) -> list[PairKnowledge]:
        unique_q = sorted(set(queries))
        by_query = dict(zip(unique_q, self.for_queries(unique_q)))
        keys = sorted(set(zip(product_ids, titles if titles is not None else [""] * len(product_ids))))
        facts = self.for_products([k[0] for k in keys], [k[1] for k in keys] if titles is not None else None)
        by_product = dict(zip(keys, facts))
        titles = titles if titles is not None else [""] * len(product_ids)
        return [PairKnowledge(by_query[q], by_product[(p, t)]) for q, p, t in zip(queries, product_ids, titles)]

    def stats(self) -> dict[str, int]:
        heads = dict(duck.run(self.con, """SELECT split_part(head, ':', 1), count(DISTINCT head) FROM facts
                                           GROUP BY 1"""))
        return {"query_heads": int(heads.get("query", 0)), "product_heads": int(heads.get("product", 0)),
                "hidden_behaviors": self.hidden_behaviors}
