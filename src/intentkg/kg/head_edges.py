"""The one point lookup of the KG by node: the intention edges of query and product heads.

    edges = HeadEdges(Workspace("ws"))
    edges.of(["query:0f3a...", "product:IKG1"])        # Arrow table, rows ordered by head, relation, tail
    edges.of(heads, behaviors=True)                     # with each edge's behaviour ids (leave-out, hiding)
    edges.heads("query")                                # every query head with an intention edge

It reads the derived head index (:mod:`intentkg.kg.index`) while that matches the KG files, and
otherwise scans the Parquet with the same SQL (after a :class:`~intentkg.kg.index.StaleIndexWarning`):
the answers are the same, only the time differs. Every reader that asks "which intentions does
this query / product have" (the knowledge lookup behind evaluation and serving, ``kg query``,
:class:`intentkg.kg.query.KnowledgeGraph`) asks it here.
"""

from __future__ import annotations

from typing import Sequence

import pyarrow as pa

from intentkg import duck
from intentkg.errors import IntentkgError
from intentkg.kg.build_edges import sql_str
from intentkg.kg.index import FACT_COLUMNS, edge_files, facts_sql, open_index, parquet_source
from intentkg.workspace import Workspace

POINT_HEADS = 64  # the scan: up to this many heads as constants (they prune row groups); more: one join


class HeadEdges:
    def __init__(self, workspace: Workspace, use_index: bool = True):
        folder = workspace.read_dir("kg")  # refuses a kg whose last build failed
        if not (folder / "nodes.parquet").exists() or not (folder / "edges").exists():
            raise IntentkgError(f"{folder} has no KG yet: run `intentkg build -w {workspace.root}` first")
        self.index = open_index(folder, workspace.manifest("kg")) if use_index else None
        self.table = "intentions"
        if self.index is not None:  # set queries (heads, supported_by) run in DuckDB over the mapped rows
            self.con = duck.connect()
            self.con.register("intentions", self.index.rows)
        else:
            files = edge_files(folder / "edges")
            if not files:
                raise IntentkgError(f"{folder / 'edges'} holds no edge files: run `intentkg build` again")
            self.con = duck.connect()
            nodes = f"read_parquet({duck.quote_path(folder / 'nodes.parquet')})"
            duck.run(self.con, f"CREATE VIEW intentions AS {facts_sql(parquet_source(files), nodes)}")
            duck.run(self.con, f"CREATE VIEW scan_edges AS SELECT * FROM {parquet_source(files)}")
            self._nodes = nodes

    @property
    def indexed(self) -> bool:
        return self.index is not None

    def _columns(self, behaviors: bool) -> tuple[str, ...]:
        return FACT_COLUMNS + (("behavior_ids",) if behaviors else ())

    def of(self, heads: Sequence[str], behaviors: bool = False) -> pa.Table:
        """The intention edges of ``heads`` (duplicates ignored), ordered by head, relation, tail."""
        wanted = sorted(set(heads))
        names = self._columns(behaviors)
        columns = ", ".join(names)
        if not wanted:
            return duck.to_arrow(self.con, f"SELECT {columns} FROM {self.table} LIMIT 0")
        if self.index is None:  # the scan: filter the edges first (constants prune row groups), then their nodes
            self.con.register("wanted_heads", pa.table({"head": wanted}))
            where = (f"head IN ({', '.join(sql_str(h) for h in wanted)})" if len(wanted) <= POINT_HEADS
                     else "head IN (SELECT head FROM wanted_heads)")
            sql = facts_sql("scan_edges", self._nodes, where)
            table = duck.to_arrow(self.con, f"SELECT {columns} FROM ({sql}) ORDER BY head, relation, tail")
            self.con.unregister("wanted_heads")
            return table
        # the index: a binary search of the key -> row-range map per head, and a slice of the mapped rows
        ranges = [r for r in map(self.index.range, wanted) if r is not None]
        rows = self.index.rows
        table = pa.concat_tables([rows.slice(a, b - a) for a, b in ranges]) if ranges else rows.slice(0, 0)
        return table.select(list(names))

    def columns_of(self, head: str) -> dict[str, list]:
        """The intention edges of one head as Python lists per column (FACT_COLUMNS), ordered by
        relation, tail: the same rows as :meth:`of`, without building an Arrow table (the point lookup
        behind "intentions for a query / product")."""
        if self.index is None:
            return self.of([head]).to_pydict()
        span = self.index.range(head)
        return self.index.columns(*(span or (0, 0)), FACT_COLUMNS)

    def heads(self, kind: str, hidden: str | None = None) -> list[str]:
        """Sorted heads of ``kind`` (query, product) with at least one intention edge; ``hidden``: the name
        of a registered table of behaviour ids that do not count (a head left without any is out)."""
        prefix = sql_str(f"{kind}:%")
        if hidden is None:
            sql = f"SELECT DISTINCT head FROM {self.table} WHERE head LIKE {prefix} ORDER BY head"
        else:
            sql = f"""SELECT DISTINCT head FROM (SELECT head, unnest(behavior_ids) AS b FROM {self.table}
                      WHERE head LIKE {prefix}) WHERE b NOT IN (SELECT behavior_id FROM {hidden}) ORDER BY head"""
        return [r[0] for r in duck.run(self.con, sql)]

    def supported_by(self, kind: str, behaviors: pa.Table) -> list[tuple[str, str]]:
        """Sorted distinct (key, head) for each row (key, behavior_id) of ``behaviors`` and each head of
        ``kind`` with an intention edge that behaviour supports."""
        self.con.register("asked_behaviors", behaviors.rename_columns(["key", "b"]))
        rows = duck.run(self.con, f"""SELECT DISTINCT o.key, f.head FROM
            (SELECT head, unnest(behavior_ids) AS b FROM {self.table} WHERE head LIKE {sql_str(f"{kind}:%")}) f
            JOIN asked_behaviors o ON o.b = f.b ORDER BY 1, 2""")
        self.con.unregister("asked_behaviors")
        return [(r[0], r[1]) for r in rows]

    def hidden_table(self, behavior_ids: Sequence[str]) -> str:
        """Register ``behavior_ids`` as a table for :meth:`heads`; returns its name."""
        self.con.register("hidden_behaviors", pa.table({"behavior_id": pa.array(sorted(behavior_ids), pa.string())}))
        return "hidden_behaviors"

    def close(self) -> None:
        self.con.close()
