"""Minimum detectable effects: the closed form, the cost of a larger family, and simulated power."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from intentkg.experiment.power import power_table
from intentkg.experiment.simulate import Design, simulate_aa
from intentkg.experiment.welch import welch_effect


def test_mde_is_the_closed_form_and_grows_with_the_family():
    design = Design(n_metrics=10, n_groups=5)
    units = simulate_aa(np.random.default_rng(10), design, 4000, n_experiments=1)
    result = power_table(units, {"all": 50, "decision": 12}, alpha=0.05, power=0.8, target_lift=0.01)
    n = 2000
    for row, name in zip(result.metrics, design.names()):
        sd = np.std(units.values[name][units.variant == "control"], ddof=1)
        assert row.sd == pytest.approx(sd, rel=0.05)
        for family, m in (("all", 50), ("decision", 12)):
            z = stats.norm.isf(0.05 / (2 * m)) + stats.norm.isf(0.2)
            assert row.mde[family] == pytest.approx(z * row.sd * np.sqrt(2 / n), rel=1e-3)
        assert row.mde["all"] > row.mde["decision"]
        assert row.units_needed["all"] > row.units_needed["decision"]
        z = stats.norm.isf(0.05 / 24) + stats.norm.isf(0.2)
        per_arm = (z * row.sd / (0.01 * row.baseline)) ** 2 * 2
        assert row.units_needed["decision"] == pytest.approx(2 * per_arm, rel=0.01)


def test_an_effect_of_one_mde_is_found_with_the_target_power():
    rng = np.random.default_rng(11)
    units = simulate_aa(rng, Design(n_metrics=2, n_groups=1), 400, n_experiments=1)
    mde = power_table(units, {"decision": 10}, power=0.8).metrics[0]
    found = 0
    for _ in range(1000):
        control = rng.normal(0, mde.sd, 200)
        treatment = rng.normal(mde.mde["decision"], mde.sd, 200)
        found += welch_effect("m", "t", control, treatment).p_value < 0.05 / 10
    assert 0.76 <= found / 1000 <= 0.84  # 0.8 +- 3 binomial standard errors (a t-test: ~0.796)
