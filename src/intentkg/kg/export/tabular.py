"""JSONL and CSV exports: nodes.* and edges.*; list columns are JSON arrays in CSV cells."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa

from intentkg import atomic_file
from intentkg.schemas import EDGES, NODES

LIST_COLUMNS = ("behavior_ids", "candidate_ids")


def write_jsonl(nodes: pa.Table, edges: pa.Table, out: Path) -> list[Path]:
    paths = []
    for name, table in (("nodes", nodes), ("edges", edges)):
        path = out / f"{name}.jsonl"
        with atomic_file.replacing(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
            for row in table.to_pylist():
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        paths.append(path)
    return paths


def read_jsonl(out: Path) -> tuple[pa.Table, pa.Table]:
    def load(name, schema):
        with open(out / f"{name}.jsonl", encoding="utf-8") as handle:
            return pa.Table.from_pylist([json.loads(line) for line in handle], schema=schema)

    return load("nodes", NODES), load("edges", EDGES)


def write_csv(nodes: pa.Table, edges: pa.Table, out: Path) -> list[Path]:
    paths = []
    for name, table in (("nodes", nodes), ("edges", edges)):
        path = out / f"{name}.csv"
        with atomic_file.replacing(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(table.column_names)
            for row in table.to_pylist():
                writer.writerow([json.dumps(v) if k in LIST_COLUMNS else ("" if v is None else v)
                                 for k, v in row.items()])
        paths.append(path)
    return paths


def _typed(value: str, field: pa.Field):
    if value == "" and field.nullable and not pa.types.is_string(field.type):
        return None
    if field.name in LIST_COLUMNS:
        return json.loads(value)
    if pa.types.is_integer(field.type):
        return int(value)
    if pa.types.is_floating(field.type):
        return float(value)
    return value if value != "" or not field.nullable else None


def read_csv(out: Path) -> tuple[pa.Table, pa.Table]:
    def load(name, schema):
        with open(out / f"{name}.csv", encoding="utf-8", newline="") as handle:
            rows = [{f.name: _typed(r[f.name], f) for f in schema} for r in csv.DictReader(handle)]
        return pa.Table.from_pylist(rows, schema=schema)

    return load("nodes", NODES), load("edges", EDGES)
