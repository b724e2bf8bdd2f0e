"""Ratio metrics (sum of numerator / sum of denominator per arm, e.g. clicks per impression) by the
delta method: the units are independent, the ratio's parts are not, so the variance of the ratio is

    var(R) = (var_x / mu_y^2 - 2 mu_x cov_xy / mu_y^3 + mu_x^2 var_y / mu_y^4) / n

and the difference between arms is tested with a normal (z) test."""

from __future__ import annotations

import numpy as np
from scipy import stats

from intentkg.experiment.effect import Effect, relative_se


def ratio_and_variance(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    n = len(x)
    mu_x, mu_y = x.mean(), y.mean()
    if mu_y == 0:
        return float("nan"), float("nan")
    cov = np.cov(x, y, ddof=1)
    var = (cov[0, 0] / mu_y**2 - 2 * mu_x * cov[0, 1] / mu_y**3 + mu_x**2 * cov[1, 1] / mu_y**4) / n
    return float(mu_x / mu_y), float(var)


def delta_effect(metric: str, arm: str, control: tuple[np.ndarray, np.ndarray],
                 treatment: tuple[np.ndarray, np.ndarray]) -> Effect:
    r_c, var_c = ratio_and_variance(*control)
    r_t, var_t = ratio_and_variance(*treatment)
    se = float(np.sqrt(var_t + var_c))
    diff = r_t - r_c
    p_value = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else (0.0 if diff else 1.0)
    return Effect(metric=metric, arm=arm, kind="ratio", n_control=len(control[0]), n_treatment=len(treatment[0]),
                  control_value=r_c, treatment_value=r_t, effect=diff, se=se, df=None, p_value=p_value,
                  relative_effect=(r_t / r_c - 1) if r_c else None, relative_se=relative_se(r_t, var_t, r_c, var_c))
