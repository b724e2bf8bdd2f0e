"""The exposure log: one row per request of a unit in the experiment, written as Parquet part files
under ``<ws>/serve/exposures/`` (``part-<utc time>-<n>.parquet``, each written to a hidden temporary
name and renamed into place, so a reader never sees half a file). ``intentkg experiment analyze
--exposures <folder>`` takes each unit's arm from here.

Columns: ts (UTC), experiment_id, unit_id, arm, bucket, knowledge_share, endpoint, key (the scrubbed, normalised
query or product key, never the raw query), outcome (what the lookup found, hit / miss /
partial, also for control units, who were not shown it).
"""

from __future__ import annotations

import itertools
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from intentkg import atomic_file

EXPOSURE_SCHEMA = pa.schema([
    pa.field("ts", pa.timestamp("ms", tz="UTC"), nullable=False),
    pa.field("experiment_id", pa.string(), nullable=False),
    pa.field("unit_id", pa.string(), nullable=False),
    pa.field("arm", pa.string(), nullable=False),
    pa.field("bucket", pa.int32(), nullable=False),
    pa.field("knowledge_share", pa.float64(), nullable=False),  # the planned treatment share (for the SRM check)
    pa.field("endpoint", pa.string(), nullable=False),
    pa.field("key", pa.string(), nullable=False),
    pa.field("outcome", pa.string(), nullable=False),
])


def exposure_folder(workspace: str | Path) -> Path:
    return Path(workspace) / "serve" / "exposures"


class ExposureLog:
    """Thread-safe buffer; ``flush`` writes what is buffered as one part file (the server flushes on its
    background tick and at shutdown, where a failure is logged and counted by its health; a full
    buffer flushes at once). A failed write keeps the rows for the next flush."""

    def __init__(self, folder: str | Path, max_rows: int = 50_000):
        self.folder = Path(folder)
        self.max_rows = max_rows
        self._rows: list[dict] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._seq = itertools.count()
        self._run = uuid.uuid4().hex[:8]

    def add(self, *, experiment_id: str, unit_id: str, arm: str, bucket: int, knowledge_share: float,
            endpoint: str, key: str, outcome: str) -> None:
        row = {"ts": datetime.now(timezone.utc), "experiment_id": experiment_id, "unit_id": unit_id, "arm": arm,
               "bucket": bucket, "knowledge_share": knowledge_share, "endpoint": endpoint, "key": key,
               "outcome": outcome}
        with self._lock:
            self._rows.append(row)
            full = len(self._rows) >= self.max_rows
        if full:
            self.flush()

    def flush(self) -> Path | None:
        with self._write_lock:
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                return None
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
            name = f"part-{stamp}-{self._run}-{next(self._seq):06d}.parquet"
            try:
                with atomic_file.replacing(self.folder / name) as tmp:  # a hidden temporary until complete
                    pq.write_table(pa.Table.from_pylist(rows, schema=EXPOSURE_SCHEMA), tmp, compression="zstd")
            except OSError:
                with self._lock:  # keep them for the next flush rather than lose them
                    self._rows[:0] = rows
                raise
            return self.folder / name


def read_exposures(folder: str | Path) -> pa.Table:
    """Every complete part file (hidden temporary files are skipped)."""
    parts = sorted(p for p in Path(folder).glob("part-*.parquet"))
    if not parts:
        return EXPOSURE_SCHEMA.empty_table()
    return pa.concat_tables([pq.read_table(p, schema=EXPOSURE_SCHEMA) for p in parts])
