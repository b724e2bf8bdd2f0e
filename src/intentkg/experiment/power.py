"""Power: the minimum detectable effect (MDE) and the units needed per metric, for a correction and a
family size. The per-test level is alpha/m (Holm's first step, and BH's threshold for a single true
effect among m; with k true effects BH tests at k alpha/m), so each metric added to the decision
family raises every metric's MDE: this is the cost of 50 correlated metrics against a pruned set.

    MDE = (z(1 - alpha'/2) + z(power)) * sd * sqrt(1/n_t + 1/n_c)      (statsmodels NormalIndPower)

sd is the unit-level standard deviation within arms (the delta-method linearisation for ratio
metrics, times sqrt(1 - variance reduction) when a CUPED covariate exists).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from statsmodels.stats.power import NormalIndPower

from intentkg.experiment.cuped import cuped_adjust
from intentkg.experiment.delta import ratio_cuped_theta
from intentkg.experiment.inputs import Units
from intentkg.experiment.prune import centred_matrix


@dataclass
class MetricPower:
    metric: str
    baseline: float
    sd: float
    cuped: float | None
    mde: dict[str, float]            # family name -> absolute MDE
    relative_mde: dict[str, float | None]
    units_needed: dict[str, int | None]  # total units (all arms) for target_lift, per family

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PowerResult:
    families: dict[str, int]        # family name -> comparisons m
    alpha: float
    power: float
    expected_true: int
    n_control: int
    n_treatment: int
    target_lift: float
    metrics: list[MetricPower]

    def as_dict(self) -> dict[str, Any]:
        return {**{k: v for k, v in asdict(self).items() if k != "metrics"},
                "metrics": [m.as_dict() for m in self.metrics]}


def per_test_alpha(alpha: float, family_size: int, expected_true: int = 1) -> float:
    return alpha * min(max(expected_true, 1), family_size) / max(family_size, 1)


def standardised_mde(n_treatment: int, n_control: int, level: float, power: float) -> float:
    return float(NormalIndPower().solve_power(effect_size=None, nobs1=n_treatment, alpha=level, power=power,
                                              ratio=n_control / n_treatment, alternative="two-sided"))


def units_needed(effect_size: float, share_treatment: float, level: float, power: float) -> int | None:
    if not effect_size or not np.isfinite(effect_size):
        return None
    ratio = (1 - share_treatment) / share_treatment
    n_t = NormalIndPower().solve_power(effect_size=abs(effect_size), nobs1=None, alpha=level, power=power,
                                       ratio=ratio, alternative="two-sided")
    return int(np.ceil(n_t) + np.ceil(n_t * ratio))


def power_table(units: Units, families: dict[str, int], *, alpha: float = 0.05, power: float = 0.8,
                control: str = "control", treatment: str = "treatment", target_lift: float = 0.01,
                expected_true: int = 1, n_control: int | None = None, n_treatment: int | None = None) -> PowerResult:
    data, names = centred_matrix(units)
    n_c = n_control or int(np.sum(units.variant == control))
    n_t = n_treatment or int(np.sum(units.variant == treatment)) or n_c
    share_t = n_t / (n_t + n_c)
    levels = {name: per_test_alpha(alpha, m, expected_true) for name, m in families.items()}
    d = {name: standardised_mde(n_t, n_c, level, power) for name, level in levels.items()}
    rows = []
    for j, metric in enumerate(names):
        sd = float(data[:, j].std(ddof=1))
        reduction = None
        if metric in units.pre and metric in units.ratios:
            (num, den), (num_pre, den_pre) = units.metric_values(metric), units.pre_values(metric)
            ok = ~(np.isnan(num) | np.isnan(den))
            _, reduction = ratio_cuped_theta(num[ok], den[ok], num_pre[ok], den_pre[ok])
        elif metric in units.pre:
            y, x = units.values[metric], units.pre_values(metric)
            ok = ~np.isnan(y)
            _, reduction = cuped_adjust(y[ok], x[ok])
        if reduction is not None:
            sd *= float(np.sqrt(max(0.0, 1 - reduction)))
        if metric in units.ratios:
            num, den = units.metric_values(metric)
            ok = ~(np.isnan(num) | np.isnan(den))
            baseline = float(num[ok].sum() / den[ok].sum())
        else:
            baseline = float(np.nanmean(units.values[metric]))
        mde = {name: d[name] * sd for name in families}
        rel = {name: (v / abs(baseline) if baseline else None) for name, v in mde.items()}
        needed = {name: units_needed(target_lift * baseline / sd if sd else 0.0, share_t, levels[name], power)
                  for name in families}
        rows.append(MetricPower(metric, baseline, sd, reduction, mde, rel, needed))
    return PowerResult(families=families, alpha=alpha, power=power, expected_true=expected_true, n_control=n_c,
                       n_treatment=n_t, target_lift=target_lift, metrics=rows)
