"""A view of the stored scores at an operating point: which candidates are kept, and why each other one went.

Stored scores never change when thresholds change; this module derives ``kept``, ``reasons`` (every
reason that rejects the row) and ``drop_step`` (the first funnel step that rejects it) from them,
batch by batch, in memory bounded by the batch size::

    from intentkg.filter.view import iter_view
    for batch in iter_view(Workspace("ws"), OperatingPoint(min_plausibility=0.7)):
        ...

A threshold set to null is off. A score that is null (the step did not run for that row) passes.
The point itself is :class:`intentkg.operating_point.OperatingPoint`, decided once per workspace.
Completeness is compared on its own scale: rows whose ``completeness_source`` is ``generation`` against
``min_generation_completeness``, every other row against ``min_completeness``.

A duplicate (``dup_of`` set, ``drop_duplicates`` on) is not kept as a candidate of its own; when
``duplicate`` is its only reason it *merges* into its representative (``merged``): ``intentkg build``
counts its behaviour as support for the representative's intention, if the representative is kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from intentkg.duck import quote_path
from intentkg.errors import IntentkgError
from intentkg.operating_point import GENERATION, OperatingPoint
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
               pa.field("drop_step", pa.string()), pa.field("merged", pa.bool_())]


def step_of(reason: str) -> str:
    return STEP_OF_REASON.get(reason, "rules")


def _floats(values) -> np.ndarray:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)  # nulls become NaN


def _below(array: np.ndarray, limit: float | None | np.ndarray, above: bool = False) -> np.ndarray:
    if limit is None:
        return np.zeros(len(array), dtype=bool)
    with np.errstate(invalid="ignore"):  # NaN (no score, or no threshold) never compares true
        return (array > limit) if above else (array < limit)


def _completeness_limits(table: pa.Table, point: OperatingPoint) -> np.ndarray:
    """Per row, the completeness threshold of its source's scale (NaN: no test)."""
    off = np.nan
    scorer = off if point.min_completeness is None else point.min_completeness
    generation = off if point.min_generation_completeness is None else point.min_generation_completeness
    if "completeness_source" not in table.column_names:
        return np.full(table.num_rows, scorer)
    sources = table.column("completeness_source").to_pylist()
    return np.array([generation if s == GENERATION else scorer for s in sources], dtype=np.float64)


def _plausibility_limits(table: pa.Table, point: OperatingPoint, relations) -> np.ndarray | None:
    if not point.per_relation:
        return point.min_plausibility  # type: ignore[return-value]
    if relations is None:
        raise ValueError("an operating point with per_relation thresholds needs each row's relation")
    default = np.nan if point.min_plausibility is None else point.min_plausibility
    return np.array([point.per_relation.get(r, default) for r in relations], dtype=np.float64)


def verdicts(table: pa.Table | pa.RecordBatch, point: OperatingPoint, relations=None) -> pa.Table:
    """``table`` (scores columns) with kept, reasons, drop_step and merged appended. ``relations``
    (one per row) is needed for per-relation thresholds when ``table`` has no relation column."""
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    if relations is None and "relation" in table.column_names:
        relations = table.column("relation").to_pylist()
    elif relations is not None and not isinstance(relations, list):
        relations = relations.to_pylist()
    is_dup = ~np.asarray(table.column("dup_of").is_null().to_numpy(zero_copy_only=False), dtype=bool)
    checks = [
        ("low_completeness", _below(_floats(table.column("completeness")), _completeness_limits(table, point))),
        ("input_paraphrase", _below(_floats(table.column("input_similarity")), point.max_input_similarity,
                                    above=True)),
        ("duplicate", is_dup if point.drop_duplicates else np.zeros(table.num_rows, dtype=bool)),
        ("low_plausibility", _below(_floats(table.column("plausibility")),
                                    _plausibility_limits(table, point, relations))),
        ("low_typicality", _below(_floats(table.column("typicality")), point.min_typicality)),
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
    merged = pa.array([r == ["duplicate"] for r in reasons], pa.bool_())
    return (table.append_column(VIEW_FIELDS[0], kept)
            .append_column(VIEW_FIELDS[1], pa.array(reasons, pa.list_(pa.string())))
            .append_column(VIEW_FIELDS[2], pa.array(steps, pa.string()))
            .append_column(VIEW_FIELDS[3], merged))


def scores_path(workspace: Workspace) -> Path:
    path = workspace.table_path(STAGE, "scores")
    if not path.exists():
        raise IntentkgError(f"{workspace.root} has no filter scores ({path} is missing); run `intentkg filter` first")
    return path


def candidates_path(workspace: Workspace) -> Path:
    return workspace.table_path("generate", "candidates")


def iter_view(workspace: Workspace, point: OperatingPoint, batch_rows: int = 65536,
              candidate_columns: tuple[str, ...] = ("behavior_id", "kind", "head", "relation", "tail"),
              con=None) -> Iterator[pa.Table]:
    """Scores joined with candidate columns, with the verdict columns, in batches (the scores' order).
    ``con``: a DuckDB connection to run the join on (the build's, so that its memory cap holds);
    default a new one at DuckDB's defaults."""
    import duckdb

    scores = scores_path(workspace)
    candidates = candidates_path(workspace)
    con = con if con is not None else duckdb.connect()
    if candidates.exists() and candidate_columns:
        wanted = ", ".join(f'c."{c}"' for c in candidate_columns)
        # in the scores' own order (the filter's content order), file by file: either table may be
        # one file or a folder of parts (engine: ray), so no position in one file orders the rows
        sql = (f"SELECT s.* EXCLUDE (filename, file_row_number), {wanted} "
               f"FROM read_parquet({quote_path(scores)}, filename = true, file_row_number = true) s "
               f"LEFT JOIN read_parquet({quote_path(candidates)}) c USING (candidate_id) "
               f"ORDER BY s.filename, s.file_row_number")
    else:
        sql = f"SELECT * FROM read_parquet({quote_path(scores)})"
    from intentkg.filter.passes import reader

    for batch in reader(con, sql, batch_rows):
        if batch.num_rows:
            yield verdicts(batch, point)


def write_view(workspace: Workspace, point: OperatingPoint, out: Path, only_kept: bool = False) -> dict[str, int]:
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
