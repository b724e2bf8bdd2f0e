"""Load CSV, Parquet and JSONL files with their 1-based row numbers, checking required columns.

Text columns of CSV and JSONL files are read as raw bytes so that one row of invalid UTF-8 is
quarantined instead of failing the whole file; :mod:`intentkg.ingest.checks` converts them.
Malformed CSV lines (wrong number of fields, unbalanced quotes: :mod:`intentkg.ingest.csv_lines`)
and JSONL lines that are not JSON objects are quarantined here. Row numbers are file line
numbers for CSV and JSONL (the CSV header is line 1) and 1-based row numbers for Parquet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from intentkg.errors import InputError
from intentkg.ingest.csv_lines import ROW, load_csv
from intentkg.ingest.quarantine import Quarantine

FORMATS = ("csv", "tsv", "parquet", "jsonl")


def detect_format(path: Path, fmt: str | None = None) -> str:
    if fmt and fmt != "auto":
        if fmt not in FORMATS:
            raise InputError(f"unknown format {fmt!r}", file=str(path), hint=f"use one of {', '.join(FORMATS)}")
        return fmt
    name = path.name.lower()
    for suffix, found in ((".parquet", "parquet"), (".pq", "parquet"), (".jsonl", "jsonl"), (".json", "jsonl"),
                          (".ndjson", "jsonl"), (".tsv", "tsv"), (".csv", "csv"), (".csv.gz", "csv"),
                          (".jsonl.gz", "jsonl")):
        if name.endswith(suffix):
            return found
    raise InputError("cannot tell the file format from its name", file=str(path),
                     hint="name it .csv, .tsv, .parquet or .jsonl, or set format: in the source config")


def require_columns(path: Path, present: Iterable[str], wanted: dict[str, str], what: str) -> None:
    """``wanted`` maps our column name -> the file's column name; every one must be present."""
    present = list(present)
    for ours, theirs in wanted.items():
        if theirs not in present:
            raise InputError(
                f"missing column {theirs!r} (needed as {ours!r} for {what}); the file has: {', '.join(present)}",
                file=str(path), column=theirs,
                hint="rename the column in the file, or map it with `columns:` in the source config",
            )


def load(path: Path, wanted: dict[str, str], optional: dict[str, str], quarantine: Quarantine,
         what: str, fmt: str | None = None) -> pa.Table:
    """Load ``path`` and return a table with our column names plus ``__row``.

    ``wanted`` and ``optional`` map our names to the file's names. Optional columns absent from
    the file are left out of the result.
    """
    if not path.exists():
        raise InputError("file does not exist", file=str(path), hint="check the path")
    fmt = detect_format(path, fmt)
    if fmt in ("csv", "tsv"):
        table = load_csv(path, "\t" if fmt == "tsv" else ",", quarantine)
    elif fmt == "parquet":
        try:
            table = pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"not a readable Parquet file: {exc}", file=str(path)) from exc
        table = _nested_as_json(table)
        table = table.append_column(ROW, pa.array(np.arange(1, table.num_rows + 1), pa.int64()))
    else:
        table = _load_jsonl(path, quarantine)
    if table.num_rows == 0:
        quarantine.warn(str(path), "the file has column names but no rows; nothing was read from it")
    require_columns(path, table.column_names, wanted, what)
    columns = {ours: table.column(theirs) for ours, theirs in wanted.items()}
    for ours, theirs in optional.items():
        if theirs in table.column_names:
            columns[ours] = table.column(theirs)
    columns[ROW] = table.column(ROW)
    return pa.table(columns)


def _load_jsonl(path: Path, quarantine: Quarantine) -> pa.Table:
    records: list[dict] = []
    rows: list[int] = []
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                reason = "bad_utf8" if isinstance(exc, UnicodeDecodeError) else "bad_json"
                quarantine.add(file=str(path), row=number, reason=reason, detail=f"line is not valid JSON: {exc}",
                               raw=line[:2000].decode("utf-8", errors="replace"))
                continue
            if not isinstance(value, dict):
                quarantine.add(file=str(path), row=number, reason="bad_json",
                               detail=f"expected a JSON object, found {type(value).__name__}", raw=value)
                continue
            records.append(value)
            rows.append(number)
    if not records:
        raise InputError("no JSON object rows found", file=str(path), hint="one JSON object per line (JSONL)")
    names = list(dict.fromkeys(k for record in records for k in record))
    columns = {name: pa.array([_jsonish(r.get(name)) for r in records], pa.string()) for name in names}
    columns[ROW] = pa.array(rows, pa.int64())
    return pa.table(columns)


def _nested_as_json(table: pa.Table) -> pa.Table:
    """List, struct and map columns of a Parquet file become JSON text, as JSONL values do."""
    for index, field in enumerate(table.schema):
        if pa.types.is_nested(field.type):
            values = [_jsonish(v) for v in table.column(index).to_pylist()]
            table = table.set_column(index, field.name, pa.array(values, pa.string()))
    return table


def _jsonish(value) -> str | None:
    """Scalars as text, lists and objects as JSON text (readers decode what they need)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, default=str)
