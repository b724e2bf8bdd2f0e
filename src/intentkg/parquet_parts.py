"""A table on disk is one Parquet file or a folder of parts (a dataset that many writers wrote:
``engine: ray``). Parts are named ``part-<block>.parquet`` so that the folder read in name order
(DuckDB's ``read_parquet(folder)``, pyarrow's ``pq.read_table(folder)``) holds the rows in the order
of the blocks they came from; nothing else lives in such a folder."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from intentkg.workspace.paths import remove


def part_name(block: int) -> str:
    return f"part-{block:09d}.parquet"


def parts(path: Path) -> list[Path]:
    """The files that hold the table at ``path``: itself, or a folder's parts in name order."""
    path = Path(path)
    return sorted(path.glob("part-*.parquet")) if path.is_dir() else [path]


def schema(path: Path) -> pa.Schema:
    """The schema of the table at ``path`` (file or folder of parts)."""
    files = parts(path)
    if not files:
        raise FileNotFoundError(f"{path} holds no Parquet parts")
    return pq.read_schema(files[0])


def keep_parts(folder: Path) -> None:
    """Remove what is not a part (a killed writer's temporary file) from a folder of parts."""
    for entry in Path(folder).iterdir():
        if not (entry.name.startswith("part-") and entry.name.endswith(".parquet")):
            remove(entry)
