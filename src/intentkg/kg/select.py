"""Which scored candidates become KG edges: the operating point applied to stored scores.

A near-duplicate (``dup_of`` set) takes the verdict of its representative and merges into the
representative's intention: its behaviour still counts as support for that intention.
"""

from __future__ import annotations

from typing import Any

import duckdb

from intentkg.kg.config import OperatingPoint

# Flags the filter sets on duplicates; a duplicate is judged by its representative instead.
DUPLICATE_FLAGS = ("duplicate", "near_duplicate", "lexical_duplicate", "semantic_duplicate", "dup")


def _has_values(con: duckdb.DuckDBPyConnection, column: str) -> bool:
    return con.execute(f"SELECT count({column}) FROM scores").fetchall()[0][0] > 0


def kept_sql(con: duckdb.DuckDBPyConnection, point: OperatingPoint) -> tuple[str, dict[str, Any]]:
    """SQL over views ``candidates`` and ``scores`` giving the kept rows, plus what was applied.

    Columns: candidate_id, behavior_id, relation, tail (the representative's text),
    plausibility, typicality, critic_id.
    """
    applied: dict[str, Any] = {"skipped": []}
    allowed = [*point.allow_rule_flags, *DUPLICATE_FLAGS]
    allowed_sql = "[" + ", ".join("'" + a.replace("'", "''") + "'" for a in allowed) + "]::VARCHAR[]"
    gates = [f"list_has_all({allowed_sql}, coalesce(r.rule_flags, []::VARCHAR[]))"]
    if point.min_plausibility is not None or point.per_relation:
        if _has_values(con, "plausibility"):
            cases = " ".join(f"WHEN '{rel.replace(chr(39), '')}' THEN {float(th)}"
                             for rel, th in point.per_relation.items())
            default = point.min_plausibility if point.min_plausibility is not None else 0.0
            threshold = f"(CASE rc.relation {cases} ELSE {default} END)" if cases else str(default)
            gates.append(f"r.plausibility >= {threshold}")
            applied["plausibility"] = {"min": default, "per_relation": point.per_relation}
        else:
            applied["skipped"].append("plausibility (no critic scores in the scores table)")
    for column, op, value in (("typicality", ">=", point.min_typicality),
                              ("completeness", ">=", point.min_completeness),
                              ("input_similarity", "<=", point.max_input_similarity)):
        if value is None:
            continue
        if _has_values(con, column):
            gates.append(f"coalesce(r.{column} {op} {float(value)}, TRUE)")
            applied[column] = value
        else:
            applied["skipped"].append(f"{column} (not computed by the filter stage)")
    sql = f"""
        SELECT c.candidate_id, c.behavior_id, rc.relation, rc.tail,
               r.plausibility, r.typicality, r.critic_id
        FROM candidates c
        JOIN scores s ON s.candidate_id = c.candidate_id
        JOIN scores r ON r.candidate_id = coalesce(s.dup_of, s.candidate_id)
        JOIN candidates rc ON rc.candidate_id = r.candidate_id
        WHERE c.parse_status = 'ok' AND rc.tail IS NOT NULL AND length(trim(rc.tail)) > 0
          AND rc.relation = c.relation
          AND list_has_all({allowed_sql}, coalesce(s.rule_flags, []::VARCHAR[]))
          AND {' AND '.join(gates)}
    """
    return sql, applied
