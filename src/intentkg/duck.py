"""Small helpers over DuckDB's Python API that work across DuckDB 1.x and 2.x."""

from __future__ import annotations

from typing import Any, Sequence

import duckdb
import pyarrow as pa


def connect() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def to_arrow(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
    """Run ``sql`` and return the whole result as an Arrow table."""
    if hasattr(con, "sql"):
        relation = con.sql(sql, params=list(params) if params else None)
        if relation is not None and hasattr(relation, "to_arrow_table"):
            return relation.to_arrow_table()
        if relation is not None and hasattr(relation, "arrow"):
            table = relation.arrow()
            return table.read_all() if isinstance(table, pa.RecordBatchReader) else table
    result = con.execute(sql, params or [])
    for name in ("to_arrow_table", "fetch_arrow_table", "arrow"):
        method = getattr(result, name, None)
        if method is not None:
            table = method()
            return table.read_all() if isinstance(table, pa.RecordBatchReader) else table
    raise RuntimeError("this DuckDB version has no Arrow fetch method")


def run(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
    """Run ``sql`` to completion and return all rows (empty for DDL/DML)."""
    result = con.execute(sql, params or [])
    try:
        return result.fetchall()
    except duckdb.InvalidInputException:
        return []


def quote_path(path: Any) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def reader(con: duckdb.DuckDBPyConnection, sql: str, batch_rows: int) -> pa.RecordBatchReader:
    """Stream a query's result as Arrow record batches (no full materialisation in Python)."""
    relation = con.sql(sql)
    if hasattr(relation, "to_arrow_reader"):
        return relation.to_arrow_reader(batch_rows)
    return relation.fetch_record_batch(batch_rows)  # DuckDB 1.x
