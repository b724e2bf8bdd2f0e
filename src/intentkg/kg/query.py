"""Query a built KG in-process with DuckDB.

    kg = KnowledgeGraph("ws")
    kg.intentions_for_query("winter camping gear")
    kg.intentions_for_product("IKG0000012")
    kg.products_sharing_intention("winter camping")
    kg.two_hop("winter camping gear")          # query -> intention -> products
    kg.top_intentions("Camping & Outdoors")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from intentkg import duck
from intentkg.errors import IntentkgError
from intentkg.kg.build_edges import STRUCTURAL
from intentkg.kg.canonical import canonical, node_id
from intentkg.kg.head_edges import HeadEdges
from intentkg.kg.ranking import edge_score
from intentkg.query_key import query_key
from intentkg.workspace import Workspace

_NOT_STRUCTURAL = "relation NOT IN (" + ", ".join(f"'{r}'" for r in STRUCTURAL) + ")"


def edges_source(folder: Path) -> str:
    """A DuckDB table expression over the relation partitions; the file list is resolved once, so
    a lookup does not glob the folder again."""
    files = sorted(str(p) for p in folder.glob("relation=*/*.parquet"))
    if not files:
        raise IntentkgError(f"{folder} holds no edge files: run `intentkg build` again")
    listed = ", ".join(duck.quote_path(f) for f in files)
    return f"read_parquet([{listed}], hive_partitioning = true)"


def query_node(query: str) -> str:
    """The node id of a query: the id of its key (:func:`intentkg.query_key.query_key`)."""
    return node_id("query", query_key(query))


class KnowledgeGraph:
    def __init__(self, workspace: str | Path | Workspace):
        ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
        folder = ws.read_dir("kg")  # refuses a kg whose last build failed
        if not (folder / "nodes.parquet").exists() or not (folder / "edges").exists():
            raise IntentkgError(f"{folder} has no KG yet: run `intentkg build -w {ws.root}` first")
        self.heads = HeadEdges(ws)
        self.con = duck.connect()
        duck.run(self.con, f"CREATE VIEW edges AS SELECT * FROM {edges_source(folder / 'edges')}")
        # nodes are far fewer than edges: held in memory; edges stay on disk and are pruned by row group
        duck.run(self.con, f"CREATE TABLE nodes AS SELECT * FROM read_parquet({duck.quote_path(folder / 'nodes.parquet')})")

    def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        return duck.to_arrow(self.con, sql, params).to_pylist()

    def _intentions_of(self, head: str, limit: int) -> list[dict[str, Any]]:
        # the one point lookup (kg.head_edges: the derived index, else a scan), ranked as kg.ranking says
        # (per column: only the rows ranked within the limit become dicts)
        c = self.heads.columns_of(head)
        scores = [edge_score(p, s) for p, s in zip(c["plausibility"], c["support"])]
        relation, intention = c["relation"], c["intention"]
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], relation[i], intention[i]))[:limit]
        return [{"relation": relation[i], "intention": intention[i], "intention_id": c["tail"][i],
                 "plausibility": c["plausibility"][i], "typicality": c["typicality"][i], "support": c["support"][i],
                 "score": scores[i], "broader": c["broader"][i]} for i in order]

    def intentions_for_query(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        """The query node's intentions, ranked as the knowledge lookup ranks them (kg.ranking); for
        the nearest-query fallback use :class:`intentkg.knowledge.lookup.KnowledgeLookup`."""
        return self._intentions_of(query_node(query), limit)

    def intentions_for_product(self, product_id: str, limit: int = 20) -> list[dict[str, Any]]:
        return self._intentions_of(node_id("product", product_id), limit)

    def _intention_ids(self, intention: str) -> list[str]:
        """Node ids for an intention text, or an intention id as given."""
        if intention.startswith("intention:"):
            return [intention]
        return [node_id("intention", canonical(intention))]

    def products_sharing_intention(self, intention: str, limit: int = 50) -> list[dict[str, Any]]:
        ids = self._intention_ids(intention)
        return self._rows(f"""
            SELECT substr(e.head, 9) AS product_id, n.text AS title, e.relation, e.support, e.plausibility
            FROM edges e JOIN nodes n ON n.node_id = e.head
            WHERE e.tail IN (SELECT unnest(?::VARCHAR[])) AND e.head LIKE 'product:%' AND {_NOT_STRUCTURAL}
            ORDER BY e.support DESC, e.plausibility DESC NULLS LAST, n.text LIMIT ?""", [ids, limit])

    def two_hop(self, query: str, limit: int = 50) -> list[dict[str, Any]]:
        """query -> intention -> products, ranked by the support along both hops."""
        return self._rows(f"""
            SELECT qi.relation, ni.text AS intention, substr(pe.head, 9) AS product_id, np.text AS title,
                   qi.support AS query_support, pe.support AS product_support
            FROM edges qi
            JOIN edges pe ON pe.tail = qi.tail AND pe.head LIKE 'product:%' AND pe.relation = qi.relation
            JOIN nodes ni ON ni.node_id = qi.tail JOIN nodes np ON np.node_id = pe.head
            WHERE qi.head = ? AND qi.{_NOT_STRUCTURAL}
            ORDER BY qi.support * pe.support DESC, np.text LIMIT ?""", [query_node(query), limit])

    def top_intentions(self, category: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        where = "AND e.category = ?" if category else ""
        params: list[Any] = [category] if category else []
        return self._rows(f"""
            SELECT n.text AS intention, e.relation, sum(e.support)::BIGINT AS support,
                   count(DISTINCT e.head) AS products
            FROM edges e JOIN nodes n ON n.node_id = e.tail
            WHERE e.head LIKE 'product:%' AND {_NOT_STRUCTURAL} {where}
            GROUP BY n.text, e.relation ORDER BY support DESC, products DESC, n.text LIMIT ?""",
                          [*params, limit])

    def children(self, intention: str) -> list[dict[str, Any]]:
        """Finer intentions under a broad one (navigation)."""
        return self._rows("SELECT node_id, text, support FROM nodes WHERE parent_id IN "
                          "(SELECT unnest(?::VARCHAR[])) ORDER BY support DESC, text",
                          [self._intention_ids(intention)])
