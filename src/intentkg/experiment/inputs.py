"""Read the per-unit table (Parquet or CSV) into arrays, quarantining what cannot be analysed.

One row per experiment unit: ``unit_id``, ``variant``, optional ``experiment_id``, one column per
metric and optionally ``<metric>__pre``. Nothing is dropped silently; every exclusion becomes a
quarantine row (file, 1-based row, column, reason, detail):

- ``missing_unit_id``, ``duplicate_unit``, ``bad_variant``: the whole unit is left out;
- ``missing_value``, ``not_a_number``, ``not_finite``: the unit is left out of that metric only
  (and of the ratio metrics built on that column);
- ``missing_pre``: the pre-period value is filled with its mean and the unit stays in (CUPED stays
  unbiased because the pre period is independent of assignment). A ratio metric gets CUPED when its
  numerator and denominator both have a ``__pre`` column.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from intentkg.errors import InputError
from intentkg.experiment.config import MetricsConfig, Ratio
from intentkg.experiment.exposures import ExposureArms
from intentkg.ingest.quarantine import Quarantine
from intentkg.ingest.reading import ROW, detect_format, load

ID_COLUMNS = ("unit_id", "variant", "experiment_id")
PRE_SUFFIX = "__pre"


@dataclass
class Units:
    """The analysable table: one entry per kept unit; NaN marks a quarantined cell."""

    file: str
    unit_id: np.ndarray
    variant: np.ndarray
    experiment_id: np.ndarray | None
    rows: np.ndarray
    values: dict[str, np.ndarray]          # every numeric column used (metrics, ratio parts, __pre)
    metrics: list[str]                     # analysed metrics, ratio metrics included
    ratios: dict[str, Ratio] = field(default_factory=dict)
    pre: dict[str, str] = field(default_factory=dict)  # metric -> its pre-period column ("a__pre/b__pre" for ratios)
    ignored_columns: list[str] = field(default_factory=list)

    def metric_values(self, metric: str) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """A mean metric's values, or a ratio metric's (numerator, denominator)."""
        if metric in self.ratios:
            ratio = self.ratios[metric]
            return self.values[ratio.numerator], self.values[ratio.denominator]
        return self.values[metric]

    def pre_values(self, metric: str) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """A mean metric's pre-period values, or a ratio's pre-period (numerator, denominator)."""
        if metric in self.ratios:
            ratio = self.ratios[metric]
            return self.values[self.pre[ratio.numerator]], self.values[self.pre[ratio.denominator]]
        return self.values[self.pre[metric]]

    def linearised(self, metric: str) -> np.ndarray:
        """Per-unit values whose mean differences carry the metric's signal: the metric itself, or for
        a ratio the delta-method linearisation (x - R y) / mean(y) (used by prune and power)."""
        if metric not in self.ratios:
            return self.values[metric]
        x, y = self.metric_values(metric)
        ok = ~(np.isnan(x) | np.isnan(y))
        ratio = x[ok].sum() / y[ok].sum()
        return (x - ratio * y) / y[ok].mean()


def file_columns(path: Path) -> list[str]:
    fmt = detect_format(path)
    if fmt == "parquet":
        try:
            return list(pq.read_schema(path).names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"not a readable Parquet file: {exc}", file=str(path)) from exc
    if fmt not in ("csv", "tsv"):
        raise InputError("experiment tables must be Parquet or CSV", file=str(path), hint="convert it to .parquet or .csv")
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        header = next(csv.reader([handle.readline().lstrip("\ufeff")], delimiter="\t" if fmt == "tsv" else ","), [])
    return [h for h in header if h]


def _text(column: pa.ChunkedArray) -> list[str | None]:
    if pa.types.is_binary(column.type):
        column = pc.cast(column, pa.string())  # CSV cells come as bytes; invalid UTF-8 -> ArrowInvalid
    return [None if v is None else str(v) for v in column.to_pylist()]


def _numbers(column: pa.ChunkedArray) -> tuple[np.ndarray, list[tuple[int, str, str]]]:
    """float64 values (NaN where unusable) and the problems as (index, reason, raw text)."""
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_boolean(column.type):
        values = column.cast(pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64, copy=True)
        problems = [(int(i), "missing_value", "") for i in np.flatnonzero(np.isnan(values))]
        problems += [(int(i), "not_finite", repr(values[i])) for i in np.flatnonzero(np.isinf(values))]
        values[np.isinf(values)] = np.nan
        return values, sorted(problems)
    fast = _parse_clean(column)
    if fast is not None:
        return fast
    values = np.full(len(column), np.nan)
    problems = []
    for i, text in enumerate(_text(column)):
        cell = (text or "").strip()
        if cell.lower() in ("", "na", "nan", "null", "none"):
            problems.append((i, "missing_value", text or ""))
            continue
        try:
            number = float(cell)
        except ValueError:
            problems.append((i, "not_a_number", cell))
            continue
        if np.isfinite(number):
            values[i] = number
        else:
            problems.append((i, "not_finite", cell))
    return values, problems


def _parse_clean(column: pa.ChunkedArray) -> tuple[np.ndarray, list[tuple[int, str, str]]] | None:
    """Vectorised parse of a text column whose cells are all numbers or empty; None when any cell is
    something else (then every cell is parsed on its own, to name the bad ones)."""
    try:
        text = pc.utf8_trim_whitespace(pc.cast(column, pa.string()))
        empty = pc.is_in(pc.utf8_lower(text), value_set=pa.array(["", "na", "nan", "null", "none"]))
        values = pc.cast(pc.if_else(empty, pa.scalar(None, pa.string()), text), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    values = values.to_numpy(zero_copy_only=False).astype(np.float64, copy=True)
    missing = pc.fill_null(empty, True).to_numpy(zero_copy_only=False)
    if np.isinf(values).any():
        return None
    return values, [(int(i), "missing_value", "") for i in np.flatnonzero(missing)]


def _looks_numeric(column: pa.ChunkedArray) -> bool:
    if not (pa.types.is_binary(column.type) or pa.types.is_string(column.type)):
        return pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_boolean(column.type)
    values, problems = _numbers(column)
    return int(np.isfinite(values).sum()) > sum(1 for _, reason, _ in problems if reason == "not_a_number")


def load_units(path: str | Path, config: MetricsConfig, quarantine: Quarantine,
               exposures: ExposureArms | None = None) -> Units:
    """``exposures``: take the arms from a serving exposure log instead of the ``variant`` column."""
    path = Path(path)
    if not path.exists():
        raise InputError("file does not exist", file=str(path), hint="check the path")
    names = file_columns(path)
    wanted = {"unit_id": "unit_id"} if exposures else {"unit_id": "unit_id", "variant": "variant"}
    table = load(path, wanted, {n: n for n in names if n not in wanted}, quarantine, "an experiment read-out")
    file, rows = str(path), table.column(ROW).to_numpy()
    needed = {c for r in config.ratios.values() for c in (r.numerator, r.denominator)}
    named = set(config.metrics or []) | set(config.decision or []) | set(config.guardrails) | set(config.exploratory or [])
    for column in sorted(needed | (named - set(config.ratios))):
        if column not in table.column_names:
            raise InputError(f"the metrics config names column {column!r}, which the table does not have; "
                             f"it has: {', '.join(names)}", file=file, column=column,
                             hint="fix the name in the metrics YAML or add the column")
    for ratio_name in config.ratios:
        if ratio_name in table.column_names:
            raise InputError(f"ratio metric {ratio_name!r} has the name of a column", file=file, column=ratio_name,
                             hint="give the ratio metric a name of its own in the metrics YAML")
    candidates = [n for n in table.column_names if n not in (*ID_COLUMNS, ROW) and not n.endswith(PRE_SUFFIX)]
    if config.metrics is not None:
        plain = [m for m in config.metrics if m not in config.ratios]
        ignored = [n for n in candidates if n not in plain and n not in needed]
    else:
        plain = [n for n in candidates if n in needed or n in named or _looks_numeric(table.column(n))]
        ignored = [n for n in candidates if n not in plain]
    metrics = [m for m in plain] + [r for r in config.ratios if config.metrics is None or r in config.metrics]
    used = set(plain) | needed
    ignored += [n for n in table.column_names if n.endswith(PRE_SUFFIX) and n[: -len(PRE_SUFFIX)] not in used]
    if not metrics:
        raise InputError("no metric columns: every column other than unit_id, variant and experiment_id "
                         "is empty or text", file=file, hint="add numeric metric columns (docs/experiment.md)")

    keep = np.ones(table.num_rows, dtype=bool)
    unit_ids = _strings(table.column("unit_id"))
    if exposures is None:
        variant_ids = _strings(table.column("variant"))
    else:
        variant_ids = pa.array(_variants_from_log(unit_ids.to_pylist(), rows, file, exposures, quarantine, keep),
                               pa.string())
    experiment_ids = _strings(table.column("experiment_id")) if "experiment_id" in table.column_names else None
    _check_units(unit_ids, variant_ids, experiment_ids, rows, file, config.valid_arms(), quarantine, keep)
    values: dict[str, np.ndarray] = {}
    columns = [m for m in plain] + sorted(needed - set(plain))
    for name in columns:
        data, problems = _numbers(table.column(name))
        for i, reason, raw in problems:
            if keep[i]:
                quarantine.add(file=file, row=int(rows[i]), column=name, reason=reason, raw=raw or None,
                               detail=f"{'no value' if reason == 'missing_value' else repr(raw) + ' is not a finite number'}; "
                                      f"the unit is left out of {name!r} and of ratios built on it")
        values[name] = data[keep]
    pre = {}
    for name in columns:
        pre_name = name + PRE_SUFFIX
        if pre_name not in table.column_names:
            continue
        data, problems = _numbers(table.column(pre_name))
        fill = float(np.nanmean(data[keep])) if np.isfinite(data[keep]).any() else 0.0
        for i, reason, raw in problems:
            if keep[i]:
                quarantine.add(file=file, row=int(rows[i]), column=pre_name, reason="missing_pre", raw=raw or None,
                               detail=f"pre-period value unusable ({reason}); filled with the mean {fill:.6g}, "
                                      f"the unit stays in {name!r}")
        data[np.isnan(data)] = fill
        values[pre_name] = data[keep]
        pre[name] = pre_name
    for ratio_name, ratio in config.ratios.items():  # a ratio's CUPED needs both parts' pre-period columns
        if ratio.numerator in pre and ratio.denominator in pre:
            pre[ratio_name] = f"{pre[ratio.numerator]}/{pre[ratio.denominator]}"
    return Units(file=file, unit_id=unit_ids.to_numpy(zero_copy_only=False)[keep],
                 variant=np.array(variant_ids.filter(pa.array(keep)).to_pylist(), dtype=str),
                 experiment_id=None if experiment_ids is None else experiment_ids.to_numpy(zero_copy_only=False)[keep],
                 rows=rows[keep], values=values, metrics=metrics, ratios=dict(config.ratios), pre=pre,
                 ignored_columns=ignored)


def _strings(column: pa.ChunkedArray) -> pa.Array:
    """One string array (CSV cells come as bytes; ids may be integers in Parquet)."""
    return pc.cast(column, pa.string()).combine_chunks()


def _codes(values: pa.Array) -> np.ndarray:
    return pc.dictionary_encode(pc.fill_null(values, "")).indices.to_numpy(zero_copy_only=False).astype(np.int64)


def _check_units(unit_ids: pa.Array, variant_ids: pa.Array, experiment_ids: pa.Array | None, rows: np.ndarray,
                 file: str, arms: list[str], quarantine: Quarantine, keep: np.ndarray) -> None:
    """Quarantine units without an id, with a variant that is not an arm, or that appear twice (all copies)."""
    no_id = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(unit_ids), ""), True).to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(no_id & keep):
        quarantine.add(file=file, row=int(rows[i]), column="unit_id", reason="missing_unit_id",
                       detail="the unit has no unit_id; it is left out of every metric")
    keep &= ~no_id
    valid = pc.fill_null(pc.is_in(variant_ids, value_set=pa.array(arms, pa.string())), False)
    for i in np.flatnonzero(keep & ~valid.to_numpy(zero_copy_only=False)):
        variant = variant_ids[int(i)].as_py()
        keep[i] = False
        quarantine.add(file=file, row=int(rows[i]), column="variant", reason="bad_variant", raw=variant,
                       detail=f"variant {variant!r} is not one of {arms}; the unit is left out "
                              f"(declare the arms with `arms:` in the metrics YAML)")
    key = _codes(unit_ids)
    if experiment_ids is not None:
        key = _codes(experiment_ids) * (int(key.max(initial=0)) + 1) + key
    counts = np.bincount(key[keep], minlength=int(key.max(initial=0)) + 1)
    for i in np.flatnonzero(keep & (counts[key] > 1)):
        unit = unit_ids[int(i)].as_py()
        experiment = None if experiment_ids is None else experiment_ids[int(i)].as_py()
        keep[i] = False
        quarantine.add(file=file, row=int(rows[i]), column="unit_id", reason="duplicate_unit", raw=unit,
                       detail=f"unit_id {unit!r} appears {counts[key[i]]} times"
                              f"{' in experiment ' + repr(experiment) if experiment is not None else ''}; "
                              f"every copy is left out (one row per unit)")


def _variants_from_log(units: list[str | None], rows: np.ndarray, file: str, exposures: ExposureArms,
                       quarantine: Quarantine, keep: np.ndarray) -> list[str | None]:
    variants: list[str | None] = []
    for i, unit in enumerate(units):
        variants.append(exposures.arm_of.get(unit) if unit else None)
        if not unit:
            continue
        if unit in exposures.mixed:
            keep[i] = False
            quarantine.add(file=file, row=int(rows[i]), column="unit_id", reason="mixed_arms", raw=unit,
                           detail=f"unit {unit!r} was logged in both arms of {exposures.experiment_id!r} "
                                  f"({exposures.folder}); it cannot be attributed and is left out")
        elif variants[-1] is None:
            keep[i] = False
            quarantine.add(file=file, row=int(rows[i]), column="unit_id", reason="not_exposed", raw=unit,
                           detail=f"unit {unit!r} is not in the exposure log of {exposures.experiment_id!r} "
                                  f"({exposures.folder}); it is left out")
    present = set(u for u in units if u)
    for unit in sorted(set(exposures.arm_of) - present):
        quarantine.add(file=exposures.folder, row=None, column="unit_id", reason="no_metrics", raw=unit,
                       detail=f"exposed unit {unit!r} ({exposures.arm_of[unit]}) has no row in {file}; it is "
                              f"left out (give units that did nothing a row of zeros)")
    return variants
