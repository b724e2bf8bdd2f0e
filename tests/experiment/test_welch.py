"""Welch effects against scipy's independent implementation and the textbook formulas."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from intentkg.experiment.welch import welch_effect


def test_welch_matches_scipy_and_the_satterthwaite_interval():
    rng = np.random.default_rng(1)
    control, treatment = rng.normal(10, 2, 300), rng.normal(10.6, 4, 500)
    effect = welch_effect("m", "treatment", control, treatment)
    reference = stats.ttest_ind(treatment, control, equal_var=False)
    assert effect.p_value == pytest.approx(reference.pvalue, rel=1e-10)
    vt, vc = treatment.var(ddof=1) / 500, control.var(ddof=1) / 300
    df = (vt + vc) ** 2 / (vt**2 / 499 + vc**2 / 299)
    half = stats.t.ppf(0.975, df) * np.sqrt(vt + vc)
    diff = treatment.mean() - control.mean()
    assert effect.interval(0.95) == pytest.approx((diff - half, diff + half), rel=1e-10)
    assert effect.relative_effect == pytest.approx(treatment.mean() / control.mean() - 1)


def test_relative_interval_covers_the_true_lift_at_the_nominal_rate():
    rng = np.random.default_rng(2)
    covered = 0
    for _ in range(400):
        effect = welch_effect("m", "t", rng.exponential(5.0, 400), rng.exponential(5.5, 400))
        low, high = effect.relative_interval(0.95)
        covered += low <= 0.1 <= high
    assert 0.92 <= covered / 400 <= 0.98  # 95% +- 3 binomial standard errors
