"""The sample-ratio-mismatch gate."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from intentkg.experiment.srm import srm_check


def test_balanced_split_passes_and_a_broken_one_fails():
    ok = srm_check(np.array(["control"] * 5000 + ["treatment"] * 5050), ["control", "treatment"], None, 0.001)
    assert ok.passed
    broken = srm_check(np.array(["control"] * 5000 + ["treatment"] * 4500), ["control", "treatment"], None, 0.001)
    assert not broken.passed
    assert broken.p_value == pytest.approx(stats.chi2.sf((250**2 / 4750) * 2, 1))
    assert "sample ratio mismatch" in broken.message() and "treatment 4,500" in broken.message()


def test_planned_unequal_split():
    variants = np.array(["control"] * 9000 + ["treatment"] * 1000)
    assert srm_check(variants, ["control", "treatment"], {"control": 0.9, "treatment": 0.1}, 0.001).passed
    assert not srm_check(variants, ["control", "treatment"], None, 0.001).passed
