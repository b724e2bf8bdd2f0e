"""Small helpers over DuckDB's Python API that work across DuckDB 1.x and 2.x, and the one place a
connection gets its resource limits (:class:`Limits`: memory cap, spill folder, threads)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Sequence

import duckdb
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator

from intentkg.errors import ConfigError

DEFAULT_MEMORY_SHARE = 0.25  # of physical RAM, when no memory limit is given
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%|b|kb|mb|gb|tb|kib|mib|gib|tib)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def total_memory() -> int:
    """Physical RAM in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_bytes(limit: str | None) -> int:
    """``"4GB"``, ``"3.5GiB"``, ``"512MB"``, ``"25%"`` (of RAM) or None (the default share) -> bytes."""
    if limit is None:
        return int(total_memory() * DEFAULT_MEMORY_SHARE)
    match = _SIZE.match(str(limit))
    if not match:
        raise ConfigError(f"memory limit {limit!r}: give a size such as 4GB, 512MB, 3.5GiB or a share of RAM "
                          f"such as 25%")
    value, unit = float(match.group(1)), (match.group(2) or "b").lower()
    if unit == "%":
        if not 0 < value <= 100:
            raise ConfigError(f"memory limit {limit!r}: a share of RAM is between 0% and 100%")
        return int(total_memory() * value / 100)
    size = int(value * _UNITS[unit])
    if size < 64 * 2**20:
        raise ConfigError(f"memory limit {limit!r}: DuckDB needs at least 64MB")
    return size


class Limits(BaseModel):
    """Resources of one DuckDB database: what a heavy stage (``intentkg build``) may use. Past the
    memory cap DuckDB spills sorts, joins, aggregates and temporary tables to ``spill_dir``."""

    model_config = ConfigDict(extra="forbid")
    memory_limit: str | None = Field(None, description=f"4GB, 512MB, 25% (of RAM); default "
                                                       f"{DEFAULT_MEMORY_SHARE:.0%} of RAM")
    spill_dir: Path | None = Field(None, description="where DuckDB spills past the cap (DuckDB's default: .tmp)")
    threads: int | None = Field(None, ge=1, description="default: every core")
    preserve_insertion_order: bool = Field(
        True, description="false lets DuckDB stream results in any order (less memory); only for queries "
                          "whose order is set by ORDER BY or does not matter")

    @field_validator("memory_limit")
    @classmethod
    def _valid(cls, value: str | None) -> str | None:
        memory_bytes(value)
        return value

    def settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {"memory_limit": f"{memory_bytes(self.memory_limit) // 2**20}MiB",
                               "preserve_insertion_order": self.preserve_insertion_order}
        if self.spill_dir is not None:
            out["temp_directory"] = str(self.spill_dir)
        if self.threads is not None:
            out["threads"] = self.threads
        return out


def connect(limits: Limits | None = None, database: str | Path = ":memory:",
            read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection; with ``limits``, capped and spilling as they say (DuckDB's defaults otherwise)."""
    if limits is None:
        return duckdb.connect(str(database), read_only=read_only)
    if limits.spill_dir is not None:
        Path(limits.spill_dir).mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(database), read_only=read_only, config=limits.settings())


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
