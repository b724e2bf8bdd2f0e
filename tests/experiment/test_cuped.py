"""CUPED keeps the effect unbiased and cuts the variance by corr(y, pre)^2."""

from __future__ import annotations

import numpy as np
import pytest

from intentkg.experiment.cuped import cuped_adjust
from intentkg.experiment.welch import welch_effect


def test_variance_reduction_is_the_squared_correlation_and_the_interval_narrows():
    rng = np.random.default_rng(5)
    n = 4000
    pre = rng.normal(50, 10, 2 * n)
    y = 0.8 * pre + rng.normal(0, 6, 2 * n)
    y[n:] += 1.0
    adjusted, reduction = cuped_adjust(y, pre)
    assert reduction == pytest.approx(np.corrcoef(y, pre)[0, 1] ** 2, abs=1e-3)
    raw = welch_effect("m", "t", y[:n], y[n:])
    cuped = welch_effect("m", "t", adjusted[:n], adjusted[n:])
    assert cuped.se == pytest.approx(raw.se * np.sqrt(1 - reduction), rel=0.05)
    low, high = cuped.interval(0.95)
    assert low < 1.0 < high and abs(cuped.effect - 1.0) < 3 * cuped.se


def test_cuped_estimates_are_unbiased_over_repetitions():
    rng = np.random.default_rng(6)
    effects = []
    for _ in range(300):
        pre = rng.normal(0, 1, 800)
        y = pre + rng.normal(0, 1, 800)
        y[400:] += 0.2
        adjusted, _ = cuped_adjust(y, pre)
        effects.append(adjusted[400:].mean() - adjusted[:400].mean())
    assert np.mean(effects) == pytest.approx(0.2, abs=3 * np.std(effects) / np.sqrt(300))


def test_constant_covariate_changes_nothing():
    y = np.arange(10.0)
    adjusted, reduction = cuped_adjust(y, np.ones(10))
    assert reduction == 0.0 and adjusted is y
