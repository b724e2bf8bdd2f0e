"""The build's edges: one aggregation per relation, written straight to ``edges/relation=<r>/part-0.parquet``.

Edges merge over (head, relation, intention) and a relation is part of that key, so aggregating
one relation at a time gives the same rows as one aggregation over all of them while holding only
that relation's groups in memory (DuckDB spills the rest past its cap). Every aggregate is ordered
(``list(... ORDER BY)``, ``avg(... ORDER BY)``, ``min``), so the values do not depend on the order
in which DuckDB's threads meet the rows: a rebuild writes the same edges.

Reads temp table ``k`` (kept candidates with ``intent``, the behaviour's ``kind``, ``left``,
``right``, ``category``), views ``behaviors`` and ``products``.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from intentkg import duck
from intentkg.operating_point import OperatingPoint
from intentkg.schemas import EDGES

STRUCTURAL = ("bought_after_search", "bought_with", "in_category")
COLUMNS = ", ".join(f'"{f.name}"' for f in EDGES if f.name != "relation")


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _threshold(point: OperatingPoint, relation: str) -> str:
    value = point.per_relation.get(relation, point.min_plausibility)
    return "NULL::DOUBLE" if value is None else f"{float(value)}::DOUBLE"


def _intention_edges(relation: str, point: OperatingPoint) -> str:
    r = sql_str(relation)
    rows = f"SELECT * FROM k WHERE relation = {r}"
    return f"""
        SELECT substr(md5(head || chr(31) || {r} || chr(31) || intent), 1, 16) AS edge_id, head, intent AS tail,
               mode(category ORDER BY category) AS category, avg(plausibility ORDER BY candidate_id) AS plausibility,
               avg(typicality ORDER BY candidate_id) AS typicality, count(DISTINCT behavior_id)::BIGINT AS support,
               list(DISTINCT behavior_id ORDER BY behavior_id) AS behavior_ids,
               list(DISTINCT candidate_id ORDER BY candidate_id) AS candidate_ids,
               min(critic_id) AS critic_id, {_threshold(point, relation)} AS threshold
        FROM (SELECT 'behavior:' || behavior_id AS head, * FROM ({rows})
              UNION ALL SELECT 'product:' || "right", * FROM ({rows})
              UNION ALL SELECT 'product:' || "left", * FROM ({rows}) WHERE kind = 'co_buy'
              UNION ALL SELECT 'query:' || substr(md5("left"), 1, 16), * FROM ({rows}) WHERE kind = 'search_buy')
        GROUP BY head, intent"""


_KEPT_BEHAVIORS = "SELECT * FROM behaviors WHERE behavior_id IN (SELECT behavior_id FROM k)"
_STRUCTURAL_ROWS = {
    "bought_after_search": f"""SELECT 'query:' || substr(md5("left"), 1, 16) AS h, 'product:' || "right" AS t,
                                      category, behavior_id FROM ({_KEPT_BEHAVIORS}) WHERE kind = 'search_buy'""",
    "bought_with": f"""SELECT 'product:' || "left" AS h, 'product:' || "right" AS t, category, behavior_id
                       FROM ({_KEPT_BEHAVIORS}) WHERE kind <> 'search_buy'""",
    # two equality joins, not one on `product_id IN (right, left)`: DuckDB runs that as a nested loop
    # (behaviours x products: 2e11 comparisons at 10M candidates); the aggregates ignore duplicates
    "in_category": f"""SELECT 'product:' || p.product_id AS h, 'category:' || substr(md5(lower(p.category)), 1, 16) AS t,
                              p.category, b.behavior_id
                       FROM (SELECT behavior_id, "right" AS product_id FROM ({_KEPT_BEHAVIORS})
                             UNION ALL SELECT behavior_id, "left" FROM ({_KEPT_BEHAVIORS})) b
                       JOIN products p USING (product_id) WHERE p.category IS NOT NULL""",
}


def _structural_edges(relation: str) -> str:
    r = sql_str(relation)
    return f"""
        SELECT substr(md5(h || chr(31) || {r} || chr(31) || t), 1, 16) AS edge_id, h AS head, t AS tail,
               min(category) AS category, NULL::DOUBLE AS plausibility, NULL::DOUBLE AS typicality,
               count(DISTINCT behavior_id)::BIGINT AS support, list(DISTINCT behavior_id ORDER BY behavior_id) AS behavior_ids,
               []::VARCHAR[] AS candidate_ids, NULL::VARCHAR AS critic_id, NULL::DOUBLE AS threshold
        FROM ({_STRUCTURAL_ROWS[relation]}) GROUP BY h, t"""


def write_edges(con, folder: Path, point: OperatingPoint, row_group_size: int) -> int:
    """Write every relation's edges under ``folder``; returns the number of edges."""
    relations = [r[0] for r in duck.run(con, "SELECT DISTINCT relation FROM k ORDER BY 1")]
    queries = [(r, _intention_edges(r, point)) for r in relations]
    if relations:
        queries += [(r, _structural_edges(r)) for r in STRUCTURAL]
    total = 0
    for relation, sql in queries:
        target = folder / f"relation={relation}"
        target.mkdir(parents=True, exist_ok=True)
        path = target / "part-0.parquet"
        # sorted by head: row-group min/max statistics prune head lookups of the Parquet
        rows = duck.run(con, f"""COPY (SELECT {COLUMNS} FROM ({sql}) ORDER BY head, tail) TO {duck.quote_path(path)}
                                 (FORMAT PARQUET, COMPRESSION zstd, ROW_GROUP_SIZE {int(row_group_size)})""")
        written = int(rows[0][0]) if rows else pq.ParquetFile(path).metadata.num_rows
        if not written:  # a structural relation with no rows: no partition
            path.unlink()
            target.rmdir()
        total += written
    if not total:  # an empty KG is a valid KG: one empty partition keeps the table's schema for readers
        empty = folder / "relation=none"
        empty.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.schema([f for f in EDGES if f.name != "relation"]).empty_table(), empty / "part-0.parquet")
    return total
