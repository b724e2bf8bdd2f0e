"""Means: Welch's unequal-variance t-test (statsmodels CompareMeans) with a delta-method relative effect."""

from __future__ import annotations

import numpy as np
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from intentkg.experiment.effect import Effect, relative_se


def welch_effect(metric: str, arm: str, control: np.ndarray, treatment: np.ndarray) -> Effect:
    """``control`` and ``treatment`` hold one value per unit (NaN already removed)."""
    t_stats, c_stats = DescrStatsW(treatment), DescrStatsW(control)
    compare = CompareMeans(t_stats, c_stats)
    _, p_value, df = compare.ttest_ind(usevar="unequal")
    var_t, var_c = t_stats.var_ddof(1) / len(treatment), c_stats.var_ddof(1) / len(control)
    mean_t, mean_c = float(t_stats.mean), float(c_stats.mean)
    return Effect(metric=metric, arm=arm, kind="mean", n_control=len(control), n_treatment=len(treatment),
                  control_value=mean_c, treatment_value=mean_t, effect=mean_t - mean_c,
                  se=float(np.sqrt(var_t + var_c)), df=float(df), p_value=float(p_value),
                  relative_effect=(mean_t / mean_c - 1) if mean_c else None,
                  relative_se=relative_se(mean_t, var_t, mean_c, var_c))
