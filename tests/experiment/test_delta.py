"""The delta-method variance of a ratio metric against the spread of the ratio over many samples."""

from __future__ import annotations

import numpy as np
import pytest

from intentkg.experiment.delta import delta_effect, ratio_and_variance


def _sample(rng, n, ctr):
    impressions = rng.poisson(20, n) + 1
    clicks = rng.binomial(impressions, ctr * rng.beta(2, 2, n) * 2)  # per-unit CTR varies: clustered clicks
    return clicks.astype(float), impressions.astype(float)


def test_delta_variance_matches_monte_carlo():
    rng = np.random.default_rng(3)
    ratios, variances = [], []
    for _ in range(1500):
        x, y = _sample(rng, 400, 0.1)
        r, v = ratio_and_variance(x, y)
        ratios.append(r)
        variances.append(v)
    assert np.mean(variances) == pytest.approx(np.var(ratios), rel=0.1)
    # treating impressions as independent trials (the binomial formula) understates it: clicks cluster
    x, y = _sample(rng, 400, 0.1)
    r = x.sum() / y.sum()
    assert r * (1 - r) / y.sum() < 0.8 * np.var(ratios)


def test_delta_interval_coverage_in_aa_tests():
    rng = np.random.default_rng(4)
    false_alarms = 0
    for _ in range(500):
        effect = delta_effect("ctr", "t", _sample(rng, 300, 0.1), _sample(rng, 300, 0.1))
        false_alarms += effect.p_value < 0.05
    assert 0.025 <= false_alarms / 500 <= 0.08
