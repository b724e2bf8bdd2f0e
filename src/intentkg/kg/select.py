"""Which scored candidates become KG edges: exactly the ones the filter's view keeps at the operating point.

The build does not judge candidates itself: it runs :func:`intentkg.filter.view.iter_view` at the
workspace's :class:`~intentkg.operating_point.OperatingPoint`, so ``intentkg view`` and the KG agree
row for row. A duplicate the view *merges* (``duplicate`` is its only reason) takes its kept
representative's intention, tail and critic scores: its behaviour counts as support for that
intention; a duplicate of a rejected representative is out.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from intentkg.filter.view import iter_view
from intentkg.operating_point import OperatingPoint
from intentkg.workspace import Workspace

VERDICT_COLUMNS = ("candidate_id", "kept", "merged")


def _has_values(con: duckdb.DuckDBPyConnection, column: str) -> bool:
    return con.execute(f"SELECT count({column}) FROM scores").fetchall()[0][0] > 0


def applied(con: duckdb.DuckDBPyConnection, point: OperatingPoint) -> dict[str, Any]:
    """What the point tested, and which of its tests found no scores to test (the manifest says so)."""
    out: dict[str, Any] = {"skipped": []}
    tests = (("plausibility", point.min_plausibility if not point.per_relation else True),
             ("typicality", point.min_typicality),
             ("completeness", point.min_completeness if point.min_generation_completeness is None else True),
             ("input_similarity", point.max_input_similarity))
    for column, value in tests:
        if value is None:
            continue
        if _has_values(con, column):
            out[column] = value
        else:
            out["skipped"].append(f"{column} (not computed by the filter stage)")
    if "plausibility" in out:
        out["plausibility"] = {"min": point.min_plausibility, "per_relation": point.per_relation}
    return out


def create_kept(con: duckdb.DuckDBPyConnection, ws: Workspace, point: OperatingPoint) -> dict[str, int]:
    """Create table ``kept`` (candidate_id, behavior_id, relation, tail, plausibility, typicality,
    critic_id, merged) over views ``candidates`` and ``scores``; returns {kept, merged} counts."""
    con.execute("CREATE OR REPLACE TEMP TABLE verdict (candidate_id VARCHAR, kept BOOLEAN, merged BOOLEAN)")
    for batch in iter_view(ws, point, candidate_columns=("relation",)):
        con.register("verdict_batch", pa.table({c: batch.column(c) for c in VERDICT_COLUMNS}))
        con.execute("INSERT INTO verdict SELECT * FROM verdict_batch")
        con.unregister("verdict_batch")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE kept AS
        SELECT c.candidate_id, c.behavior_id, rc.relation, rc.tail, r.plausibility, r.typicality, r.critic_id,
               NOT v.kept AS merged
        FROM verdict v
        JOIN candidates c ON c.candidate_id = v.candidate_id
        JOIN scores s ON s.candidate_id = v.candidate_id
        JOIN verdict rv ON rv.candidate_id = CASE WHEN v.kept THEN v.candidate_id ELSE s.dup_of END
        JOIN scores r ON r.candidate_id = rv.candidate_id
        JOIN candidates rc ON rc.candidate_id = r.candidate_id
        WHERE (v.kept OR (v.merged AND rv.kept)) AND c.parse_status = 'ok'
          AND rc.tail IS NOT NULL AND length(trim(rc.tail)) > 0 AND rc.relation = c.relation
    """)
    kept, merged = con.execute("SELECT count(*) FILTER (NOT merged), count(*) FILTER (merged) FROM kept").fetchall()[0]
    return {"kept": int(kept), "merged": int(merged)}
