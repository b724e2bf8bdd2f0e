"""KG exports. Each format has write(nodes, edges, folder) and read(folder) -> (nodes, edges), so
every export is round-trip tested against the Parquet KG."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from intentkg.errors import IntentkgError
from intentkg.kg.export import graphml, neo4j, rdf, tabular
from intentkg.schemas import EDGES, NODES
from intentkg.workspace import Workspace

FORMATS: dict[str, tuple[Callable, Callable]] = {
    "jsonl": (tabular.write_jsonl, tabular.read_jsonl),
    "csv": (tabular.write_csv, tabular.read_csv),
    "turtle": (rdf.write, rdf.read),
    "graphml": (graphml.write, graphml.read),
    "neo4j": (neo4j.write, neo4j.read),
}


def load_kg(workspace: Workspace | str | Path) -> tuple[pa.Table, pa.Table]:
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    folder = ws.read_dir("kg")  # refuses a kg whose last build failed
    if not (folder / "nodes.parquet").exists():
        raise IntentkgError(f"{folder} has no KG yet: run `intentkg build -w {ws.root}` first")
    nodes = pq.read_table(folder / "nodes.parquet")
    edges = ds.dataset(folder / "edges", format="parquet", partitioning="hive").to_table()
    return nodes.cast(NODES), edges.select(EDGES.names).cast(EDGES)


def export(workspace: Workspace | str | Path, fmt: str, out: Path) -> list[Path]:
    if fmt not in FORMATS:
        raise IntentkgError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    nodes, edges = load_kg(workspace)
    out.mkdir(parents=True, exist_ok=True)
    return FORMATS[fmt][0](nodes, edges, out)
