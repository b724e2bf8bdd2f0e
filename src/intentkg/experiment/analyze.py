"""The read-out: SRM gate, then per metric and treatment arm the effect (Welch, delta method, CUPED
when a pre-period column exists), then the corrections over the decision family."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from intentkg.errors import InputError
from intentkg.experiment.config import MetricsConfig
from intentkg.experiment.cuped import cuped_adjust
from intentkg.experiment.delta import delta_cuped_effect, delta_effect
from intentkg.experiment.effect import Effect
from intentkg.experiment.inputs import Units
from intentkg.experiment.multiple_testing import Family, correct
from intentkg.experiment.srm import SRMResult, srm_check
from intentkg.experiment.welch import welch_effect

MIN_UNITS = 2  # per arm, per metric


@dataclass
class Readout:
    srm: SRMResult
    effects: list[Effect] = field(default_factory=list)
    family: Family | None = None
    quarantine: dict[str, Any] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # comparisons with no test, and why

    def as_dict(self) -> dict[str, Any]:
        return {"srm": self.srm.as_dict(), "family": self.family.as_dict() if self.family else None,
                "metrics": [e.as_dict() for e in self.effects], "quarantine": self.quarantine,
                "ignored_columns": self.ignored_columns, "skipped": self.skipped}


def select_experiment(units: Units, experiment: str | None) -> Units:
    """Keep one experiment's units when the table holds several ``experiment_id`` values."""
    if units.experiment_id is None:
        if experiment is not None:
            raise InputError("--experiment was given but the table has no experiment_id column", file=units.file,
                             column="experiment_id")
        return units
    ids = sorted(set(units.experiment_id.tolist()), key=str)
    if experiment is None:
        if len(ids) > 1:
            raise InputError(f"the table holds {len(ids)} experiments ({', '.join(map(str, ids[:10]))}); "
                             f"a read-out is of one", file=units.file, column="experiment_id",
                             hint="pass --experiment ID")
        return units
    if experiment not in ids:
        raise InputError(f"experiment {experiment!r} is not in the table (it has {', '.join(map(str, ids[:10]))})",
                         file=units.file, column="experiment_id")
    mask = units.experiment_id == experiment
    return Units(file=units.file, unit_id=units.unit_id[mask], variant=units.variant[mask],
                 experiment_id=units.experiment_id[mask], rows=units.rows[mask],
                 values={k: v[mask] for k, v in units.values.items()}, metrics=units.metrics, ratios=units.ratios,
                 pre=units.pre, ignored_columns=units.ignored_columns)


class Untestable(Exception):
    """A comparison that has no test: too few units, no variance, or a zero denominator."""


def metric_effect(units: Units, metric: str, arm: str, control: str) -> Effect:
    """Raises Untestable with the reason, which the read-out lists under ``skipped``."""
    in_c, in_t = units.variant == control, units.variant == arm
    if metric in units.ratios:
        x, y = units.metric_values(metric)
        ok = ~(np.isnan(x) | np.isnan(y))
        c, t = _enough(ok & in_c, ok & in_t)
        if y[c].sum() == 0 or y[t].sum() == 0:
            raise Untestable(f"the denominator {units.ratios[metric].denominator!r} sums to 0 in an arm")
        if metric in units.pre:
            x_pre, y_pre = units.pre_values(metric)
            effect = delta_cuped_effect(metric, arm, (x[c], y[c], x_pre[c], y_pre[c]), (x[t], y[t], x_pre[t], y_pre[t]))
        else:
            effect = delta_effect(metric, arm, (x[c], y[c]), (x[t], y[t]))
    else:
        y = units.values[metric]
        ok = ~np.isnan(y)
        c, t = _enough(ok & in_c, ok & in_t)
        if np.ptp(y[c]) == 0 and np.ptp(y[t]) == 0:
            raise Untestable(f"constant within each arm (control {y[c][0]:.6g}, {arm} {y[t][0]:.6g}): no variance "
                             f"to test against")
        reduction = None
        if metric in units.pre:
            both = c | t
            adjusted, reduction = cuped_adjust(y[both], units.pre_values(metric)[both])
            y = np.full_like(y, np.nan)
            y[both] = adjusted
        effect = welch_effect(metric, arm, y[c], y[t])
        effect.cuped = reduction
    if not np.isfinite(effect.se) or effect.se <= 0 or not np.isfinite(effect.p_value):
        raise Untestable("no finite standard error (degenerate values)")
    effect.n_missing = int(((~ok) & (in_c | in_t)).sum())
    return effect


def _enough(c: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if c.sum() < MIN_UNITS or t.sum() < MIN_UNITS:
        raise Untestable(f"fewer than {MIN_UNITS} units with a value in an arm")
    return c, t


def analyze(units: Units, config: MetricsConfig, *, check_srm: bool = True) -> Readout:
    """Raises SampleRatioMismatch (after nothing else was computed) when assignment is broken."""
    arms = config.valid_arms()
    srm = srm_check(units.variant, arms, config.expected_split, config.srm_alpha)
    readout = Readout(srm=srm, ignored_columns=units.ignored_columns)
    if check_srm and not srm.passed:
        return readout
    treatments = [a for a in arms if a != config.control]
    for metric in units.metrics:
        for arm in treatments:
            try:
                readout.effects.append(metric_effect(units, metric, arm, config.control))
            except Untestable as why:
                readout.skipped.append({"metric": metric, "arm": arm, "reason": str(why)})
    families = config.family_of(units.metrics)
    readout.family = correct(readout.effects, families, config.correction, config.alpha)
    return readout
