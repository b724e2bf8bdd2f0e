"""Answers that ignore the behaviour: the same whole answer for prompts about unrelated products.

A model that ignores its input gives one answer whatever it is asked about: Gemma 3 270M answers
"1. a birthday party 2. decorating a cake 3. an anniversary celebration" for dog collars, knife
sets and slippers alike. An answer (the model's whole text, normalised) is repeated when at least
``min_prompts`` different prompts of one relation got it and their products span at least
``min_groups`` product types. Each of its tails that shares no content word with its own behaviour
is flagged ``ignores_behavior`` (one that does, such as "a birthday party" for birthday candles,
fits that behaviour even so).

Prompts are counted by request key, so the samples of one prompt and a type-level prompt shared by
many behaviours (``granularity: product_type``) count once.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from intentkg.duck import quote_path, to_arrow
from intentkg.filter.config import RepeatedAnswersConfig

SCHEMA = pa.schema([("row", pa.int64()), ("detail", pa.string())])


def find_repeated_answers(con: duckdb.DuckDBPyConnection, rows_path: Path | str,
                          config: RepeatedAnswersConfig) -> pa.Table:
    """Rows (row, detail) whose answer was repeated for unrelated prompts. ``rows_path`` has row,
    relation, key, request_key, answer_key, grp, supported."""
    if not config.enabled:
        return SCHEMA.empty_table()
    source = f"read_parquet({quote_path(rows_path)})"
    result = to_arrow(con, f"""
        WITH prompts AS (
            SELECT relation, answer_key, request_key, min(coalesce(grp, '?')) AS grp
            FROM {source} WHERE key IS NOT NULL AND answer_key <> '' GROUP BY relation, answer_key, request_key),
        repeated AS (
            SELECT relation, answer_key, count(*) AS prompts, count(DISTINCT grp) AS groups
            FROM prompts GROUP BY relation, answer_key HAVING count(*) >= ? AND count(DISTINCT grp) >= ?)
        SELECT r.row, 'the same answer was given to ' || p.prompts || ' prompts about ' || p.groups
               || ' product types; no word of this tail is in its behaviour' AS detail
        FROM {source} r JOIN repeated p USING (relation, answer_key)
        WHERE r.key IS NOT NULL AND NOT coalesce(r.supported, false)
        ORDER BY r.row
    """, [config.min_prompts, config.min_groups])
    return result.cast(SCHEMA) if result.num_rows else SCHEMA.empty_table()
