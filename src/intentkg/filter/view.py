"""A view of the stored scores at an operating point: which candidates are kept, and why each other one went.

Stored scores never change when thresholds change; this module derives ``kept``, ``reasons`` (every
reason that rejects the row) and ``drop_step`` (the first funnel step that rejects it) from them,
batch by batch, in memory bounded by the batch size::

    from intentkg.filter.view import iter_view
    for batch in iter_view(Workspace("ws"), Thresholds(min_plausibility=0.7)):
        ...

A threshold set to null is off. A score that is null (the step did not run for that row) passes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from intentkg.duck import quote_path
from intentkg.errors import IntentkgError
from intentkg.filter.config import Thresholds
from intentkg.workspace import Workspace

STAGE = "filter"

# Funnel steps in order, and the reason codes each one owns.
STEPS = ("parse", "rules", "generic", "completeness", "similarity", "dedup", "critic")
STEP_OF_REASON = {
    "parse_failed": "parse",
    "generic_tail": "generic",
    "low_completeness": "completeness",
    "input_paraphrase": "similarity",
    "duplicate": "dedup",
    "low_plausibility": "critic",
    "low_typicality": "critic",
}
_STEP_RANK = {step: i for i, step in enumerate(STEPS)}

VIEW_FIELDS = [pa.field("kept", pa.bool_()), pa.field("reasons", pa.list_(pa.string())),
               pa.field("drop_step", pa.string())]


def step_of(reason: str) -> str:
    return STEP_OF_REASON.get(reason, "rules")


def _below(values: pa.ChunkedArray, limit: float | None, above: bool = False) -> np.ndarray:
    array = np.asarray(values.to_numpy(), dtype=np.float64)  # nulls become NaN, which never compares true
    if limit is None:
        return np.zeros(len(array), dtype=bool)
    with np.errstate(invalid="ignore"):
        return (array > limit) if above else (array < limit)


def verdicts(table: pa.Table | pa.RecordBatch, point: Thresholds) -> pa.Table:
    """``table`` (scores columns) with kept, reasons and drop_step appended."""
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    checks = [
        ("low_completeness", _below(table.column("completeness"), point.min_completeness)),
        ("input_paraphrase", _below(table.column("input_similarity"), point.max_input_similarity, above=True)),
        ("duplicate", (~np.asarray(table.column("dup_of").is_null().to_numpy(zero_copy_only=False), dtype=bool))
         if point.drop_duplicates else np.zeros(table.num_rows, dtype=bool)),
        ("low_plausibility", _below(table.column("plausibility"), point.min_plausibility)),
        ("low_typicality", _below(table.column("typicality"), point.min_typicality)),
    ]
    ignored = set(point.ignore_flags)
    flags = table.column("rule_flags").to_pylist()
    reasons: list[list[str]] = []
    steps: list[str | None] = []
    for i, row_flags in enumerate(flags):
        row = [f for f in row_flags or () if f not in ignored]
        row += [name for name, mask in checks if mask[i]]
        reasons.append(row)
        steps.append(min((step_of(r) for r in row), key=_STEP_RANK.__getitem__) if row else None)
    kept = pa.array([not r for r in reasons], pa.bool_())
    return (table.append_column(VIEW_FIELDS[0], kept)
            .append_column(VIEW_FIELDS[1], pa.array(reasons, pa.list_(pa.string())))
            .append_column(VIEW_FIELDS[2], pa.array(steps, pa.string())))


def scores_path(workspace: Workspace) -> Path:
    path = workspace.table_path(STAGE, "scores")
    if not path.exists():
        raise IntentkgError(f"{workspace.root} has no filter scores ({path} is missing); run `intentkg filter` first")
    return path


def candidates_path(workspace: Workspace) -> Path:
    return workspace.table_path("generate", "candidates")


def iter_view(workspace: Workspace, point: Thresholds, batch_rows: int = 65536,
              candidate_columns: tuple[str, ...] = ("behavior_id", "kind", "head", "relation", "tail"),
              ) -> Iterator[pa.Table]:
    """Scores joined with candidate columns, with the verdict columns, in batches (candidate order)."""
    import duckdb

    scores = scores_path(workspace)
    candidates = candidates_path(workspace)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    if candidates.exists() and candidate_columns:
        wanted = ", ".join(f'c."{c}"' for c in candidate_columns)
        sql = (f"SELECT s.*, {wanted} FROM read_parquet({quote_path(scores)}) s "
               f"LEFT JOIN read_parquet({quote_path(candidates)}, file_row_number = true) c USING (candidate_id) "
               f"ORDER BY c.file_row_number NULLS LAST")
    else:
        sql = f"SELECT * FROM read_parquet({quote_path(scores)})"
    from intentkg.filter.passes import reader

    for batch in reader(con, sql, batch_rows):
        if batch.num_rows:
            yield verdicts(batch, point)


def write_view(workspace: Workspace, point: Thresholds, out: Path, only_kept: bool = False) -> dict[str, int]:
    """Write the view to a Parquet file; returns {rows, kept}."""
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = None
    rows = kept = 0
    try:
        for batch in iter_view(workspace, point):
            n_kept = int(np.asarray(batch.column("kept").to_numpy(zero_copy_only=False)).sum())
            rows += batch.num_rows
            kept += n_kept
            if only_kept:
                batch = batch.filter(batch.column("kept"))
            if writer is None:
                writer = pq.ParquetWriter(out, batch.schema, compression="zstd")
            writer.write_table(batch)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        from intentkg.schemas import SCORES

        pq.write_table(pa.schema(list(SCORES) + VIEW_FIELDS).empty_table(), out)
    return {"rows": rows, "kept": kept}
