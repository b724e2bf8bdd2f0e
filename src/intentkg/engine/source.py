"""The rows an engine maps over: an Arrow table, a Parquet file (or folder of parts) or a DuckDB query.

The local engine streams them in order; the Ray engine puts them into the cluster's object store
block by block (:meth:`Source.blocks`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq


@dataclass
class Source:
    table: pa.Table | None = None
    path: Path | None = None
    sql: str | None = None
    con: object | None = None  # the DuckDB connection ``sql`` runs on

    def batches(self, rows: int) -> Iterator[pa.Table]:
        if self.table is not None:
            for batch in self.table.to_batches(rows):
                yield pa.Table.from_batches([batch])
        elif self.path is not None:  # a file, or a folder of parts in name order
            from intentkg.parquet_parts import parts

            for part in parts(self.path):
                for batch in pq.ParquetFile(part).iter_batches(rows):
                    yield pa.Table.from_batches([batch])
        else:
            from intentkg.duck import reader

            for batch in reader(self.con, self.sql, rows):
                yield pa.Table.from_batches([batch])

    def blocks(self, rows: int) -> list[pa.Table]:
        """This source in blocks of ``rows`` rows, each with ``__block``: the block a row came in."""
        return [batch.append_column("__block", pa.array([i] * batch.num_rows, pa.int64()))
                for i, batch in enumerate(self.batches(rows)) if batch.num_rows]
