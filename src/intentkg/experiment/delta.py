"""Ratio metrics (sum of numerator / sum of denominator per arm, e.g. clicks per impression) by the
delta method: the units are independent, the ratio's parts are not, so the variance of the ratio is

    var(R) = (var_x / mu_y^2 - 2 mu_x cov_xy / mu_y^3 + mu_x^2 var_y / mu_y^4) / n

and the difference between arms is tested with a normal (z) test.

With the pre-period numerator and denominator, CUPED works on the linearisations
``L = (x - R y) / mu_y`` and ``P = (x' - R' y') / mu_y'`` (Deng et al. 2018): theta = cov(L, P) / var(P)
over both arms, each arm's ratio becomes ``R - theta (R'_arm - R'_all)`` with variance
``(var L + theta^2 var P - 2 theta cov(L, P)) / n`` (the same estimator as tea-tasting's)."""

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


def _linearised(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x - x.mean() / y.mean() * y) / y.mean()


def ratio_cuped_theta(x: np.ndarray, y: np.ndarray, x_pre: np.ndarray, y_pre: np.ndarray) -> tuple[float, float]:
    """(theta, variance reduction corr(L, P)^2) over the pooled units."""
    lin, pre = _linearised(x, y), _linearised(x_pre, y_pre)
    var_pre = pre.var(ddof=1)
    if var_pre == 0 or lin.var(ddof=1) == 0:
        return 0.0, 0.0
    cov = np.cov(lin, pre, ddof=1)[0, 1]
    return float(cov / var_pre), float(cov**2 / (var_pre * lin.var(ddof=1)))


def delta_cuped_effect(metric: str, arm: str, control: tuple[np.ndarray, ...], treatment: tuple[np.ndarray, ...]) -> Effect:
    """``control`` and ``treatment``: (numerator, denominator, numerator pre, denominator pre)."""
    pooled = [np.concatenate([c, t]) for c, t in zip(control, treatment)]
    theta, _ = ratio_cuped_theta(*pooled)
    pre_all = pooled[2].mean() / pooled[3].mean()

    def arm_stats(x, y, x_pre, y_pre) -> tuple[float, float, float]:
        lin, pre = _linearised(x, y), _linearised(x_pre, y_pre)
        cov = np.cov(lin, pre, ddof=1)
        value = x.mean() / y.mean() - theta * (x_pre.mean() / y_pre.mean() - pre_all)
        adjusted = (cov[0, 0] + theta**2 * cov[1, 1] - 2 * theta * cov[0, 1]) / len(x)
        return float(value), float(adjusted), float(cov[0, 0] / len(x))

    r_c, var_c, raw_c = arm_stats(*control)
    r_t, var_t, raw_t = arm_stats(*treatment)
    se = float(np.sqrt(var_t + var_c))
    diff = r_t - r_c
    p_value = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else (0.0 if diff else 1.0)
    return Effect(metric=metric, arm=arm, kind="ratio", n_control=len(control[0]), n_treatment=len(treatment[0]),
                  control_value=r_c, treatment_value=r_t, effect=diff, se=se, df=None, p_value=p_value,
                  relative_effect=(r_t / r_c - 1) if r_c else None, relative_se=relative_se(r_t, var_t, r_c, var_c),
                  cuped=float(1 - (var_t + var_c) / (raw_t + raw_c)) if raw_t + raw_c else 0.0)
