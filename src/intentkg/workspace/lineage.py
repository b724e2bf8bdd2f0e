"""Walk from any row of a workspace back to the rows, stages and input files it came from.

The walk follows the ``links`` declared in :mod:`intentkg.schemas` (candidate -> behavior ->
products -> input file and row) and attaches to each row what its stage's manifest says about
the models and config it ran with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from intentkg.schemas import TABLES
from intentkg.workspace.workspace import Workspace

MAX_DEPTH = 8


@dataclass
class LineageNode:
    table: str
    stage: str
    key: str
    row: dict[str, Any]
    stage_info: dict[str, Any]
    parents: list["LineageNode"] = field(default_factory=list)

    def input_files(self) -> list[tuple[str, int]]:
        """Every (input file, row) this node rests on, walking all parents."""
        found = []
        if self.row.get("source_file") is not None:
            found.append((self.row["source_file"], self.row.get("source_row")))
        for parent in self.parents:
            found.extend(parent.input_files())
        return list(dict.fromkeys(found))


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _lookup(con: duckdb.DuckDBPyConnection, path: Path, column: str, value: str) -> dict[str, Any] | None:
    source = (f"read_parquet({_quote(path / '**' / '*.parquet')}, hive_partitioning = true)" if path.is_dir()
              else f"read_parquet({_quote(path)})")
    result = con.execute(f'SELECT * FROM {source} WHERE "{column}" = ? LIMIT 1', [value])
    rows = result.fetchall()
    if not rows:
        return None
    row = rows[0]
    names = [d[0] for d in result.description]
    return dict(zip(names, row))


def _stage_info(workspace: Workspace, stage: str) -> dict[str, Any]:
    manifest = workspace.manifest(stage)
    if manifest is None:
        return {}
    return {
        "config_hash": manifest.config_hash[:12],
        "finished_at": manifest.finished_at,
        "models": [f"{m.role}: {m.model_id}" + (f" (sha256 {m.sha256[:12]})" if m.sha256 else "")
                   for m in manifest.models],
        "inputs": [f"{i.kind} {i.name} (sha256 {i.sha256[:12]})" for i in manifest.inputs],
    }


def find_row(workspace: Workspace, row_id: str, table: str | None = None,
             con: duckdb.DuckDBPyConnection | None = None) -> LineageNode | None:
    """Find the row whose key is ``row_id`` in any table (or only in ``table``)."""
    con = con or duckdb.connect()
    for name, paths in workspace.tables().items():
        spec = TABLES.get(name)
        if spec is None or spec.key is None or (table and name != table):
            continue
        for path in paths:
            row = _lookup(con, path, spec.key, row_id)
            if row is not None:
                stage = path.parent.name
                return LineageNode(name, stage, row_id, row, _stage_info(workspace, stage))
    return None


def trace(workspace: Workspace, row_id: str, table: str | None = None) -> LineageNode | None:
    """The lineage tree of ``row_id``; None when no table holds that id."""
    con = duckdb.connect()
    root = find_row(workspace, row_id, table, con)
    if root is None:
        return None
    _expand(workspace, root, con, depth=0, seen={(root.table, root.key)})
    return root


def _expand(workspace: Workspace, node: LineageNode, con, depth: int, seen: set) -> None:
    if depth >= MAX_DEPTH:
        return
    for column, (target_table, _target_key) in TABLES[node.table].links.items():
        values = node.row.get(column)
        if values is None:
            continue
        if not isinstance(values, list):
            values = [values]
        for value in values[:20]:
            if (target_table, value) in seen:
                continue
            seen.add((target_table, value))
            parent = find_row(workspace, str(value), target_table, con)
            if parent is not None:
                _expand(workspace, parent, con, depth + 1, seen)
                node.parents.append(parent)
