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
import pyarrow.compute as pc

from intentkg import duck
from intentkg.filter.view import iter_view
from intentkg.operating_point import OperatingPoint
from intentkg.workspace import Workspace


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
    critic_id, merged); returns {kept, merged} counts. Only kept and merged rows of the view are held
    (a merged row needs its kept representative's tail and scores, nothing else can become an edge)."""
    duck.run(con, """CREATE OR REPLACE TEMP TABLE verdict (candidate_id VARCHAR, behavior_id VARCHAR, relation VARCHAR,
                     tail VARCHAR, parse_status VARCHAR, plausibility DOUBLE, typicality DOUBLE, critic_id VARCHAR,
                     dup_of VARCHAR, kept BOOLEAN)""")
    columns = ("candidate_id", "behavior_id", "relation", "tail", "parse_status", "plausibility", "typicality",
               "critic_id", "dup_of", "kept")
    for batch in iter_view(ws, point, candidate_columns=("behavior_id", "relation", "tail", "parse_status"),
                           con=con.cursor()):
        wanted = pc.or_(batch.column("kept"), batch.column("merged"))
        con.register("verdict_batch", batch.select(list(columns)).filter(wanted))
        duck.run(con, "INSERT INTO verdict SELECT * FROM verdict_batch")
        con.unregister("verdict_batch")
    duck.run(con, """
        CREATE OR REPLACE TEMP TABLE kept AS
        SELECT v.candidate_id, v.behavior_id, rv.relation, rv.tail, rv.plausibility, rv.typicality, rv.critic_id,
               NOT v.kept AS merged
        FROM verdict v JOIN verdict rv ON rv.candidate_id = CASE WHEN v.kept THEN v.candidate_id ELSE v.dup_of END
        WHERE rv.kept AND v.parse_status = 'ok' AND rv.tail IS NOT NULL AND length(trim(rv.tail)) > 0
          AND rv.relation = v.relation
    """)
    duck.run(con, "DROP TABLE verdict")
    kept, merged = duck.run(con, "SELECT count(*) FILTER (NOT merged), count(*) FILTER (merged) FROM kept")[0]
    return {"kept": int(kept), "merged": int(merged)}
