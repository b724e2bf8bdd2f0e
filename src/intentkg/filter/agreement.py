"""Agreement between samples: a tail that only one of a prompt's samples names is unconfirmed.

With ``sampling.n`` > 1 each prompt is answered several times. A tail that most samples name is
what the model believes about the behaviour; one that a single sample names is closer to noise.
A row is flagged ``unconfirmed`` when its prompt (request key) has at least ``min_samples``
samples and fewer than ``min_share`` of them name its tail (normalised, see
:func:`~intentkg.filter.text.core`). With one sample per prompt nothing is flagged.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from intentkg.duck import quote_path, to_arrow
from intentkg.filter.config import AgreementConfig

SCHEMA = pa.schema([("row", pa.int64()), ("detail", pa.string())])


def find_unconfirmed(con: duckdb.DuckDBPyConnection, rows_path: Path | str, config: AgreementConfig) -> pa.Table:
    """Rows (row, detail) whose tail too few samples of their prompt named. ``rows_path`` has row,
    key, request_key, sample."""
    if not config.enabled:
        return SCHEMA.empty_table()
    source = f"read_parquet({quote_path(rows_path)})"
    result = to_arrow(con, f"""
        WITH prompts AS (SELECT request_key, count(DISTINCT sample) AS samples FROM {source} GROUP BY request_key
                         HAVING count(DISTINCT sample) >= ?),
        agree AS (SELECT request_key, key, count(DISTINCT sample) AS n FROM {source}
                  WHERE key IS NOT NULL GROUP BY request_key, key)
        SELECT r.row, 'named by ' || a.n || ' of the ' || p.samples || ' samples of its prompt' AS detail
        FROM {source} r JOIN prompts p USING (request_key) JOIN agree a USING (request_key, key)
        WHERE a.n < ? * p.samples
        ORDER BY r.row
    """, [config.min_samples, config.min_share])
    return result.cast(SCHEMA) if result.num_rows else SCHEMA.empty_table()
