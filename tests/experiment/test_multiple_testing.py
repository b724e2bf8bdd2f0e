"""Corrections apply to the decision family only; guardrails alone; exploratory never corrected."""

from __future__ import annotations

import pytest

from intentkg.experiment.effect import Effect
from intentkg.experiment.multiple_testing import correct


def _effect(metric: str, p: float) -> Effect:
    return Effect(metric=metric, arm="treatment", kind="mean", n_control=100, n_treatment=100, control_value=1.0,
                  treatment_value=1.1, effect=0.1, se=0.05, df=198.0, p_value=p, relative_effect=0.1,
                  relative_se=0.05)


P = {"a": 0.001, "b": 0.012, "c": 0.03, "d": 0.04, "guard": 0.03, "explore": 0.01}
FAMILIES = {"a": "decision", "b": "decision", "c": "decision", "d": "decision", "guard": "guardrail",
            "explore": "exploratory"}


def test_holm_by_hand():
    effects = [_effect(m, p) for m, p in P.items()]
    family = correct(effects, FAMILIES, "holm", 0.05)
    got = {e.metric: e.p_adjusted for e in effects}
    # Holm: sorted p times (m, m-1, ...), running maximum
    assert got["a"] == pytest.approx(0.004) and got["b"] == pytest.approx(0.036)
    assert got["c"] == pytest.approx(0.06) and got["d"] == pytest.approx(0.06)
    assert [e.significant for e in effects[:4]] == [True, True, False, False]
    assert family.size == 4 and family.ci_level == pytest.approx(1 - 0.05 / 4)
    guard, explore = effects[4], effects[5]
    assert guard.p_adjusted == 0.03 and guard.significant and guard.ci_level == 0.95
    assert explore.p_adjusted is None and explore.significant and explore.ci_level == 0.95
    assert "Holm" in family.describe() and family.guardrails == ["guard"] and family.exploratory == ["explore"]


def test_bh_by_hand_and_fcr_interval_level():
    effects = [_effect(m, p) for m, p in P.items()]
    family = correct(effects, FAMILIES, "bh", 0.05)
    got = {e.metric: e.p_adjusted for e in effects[:4]}
    # BH: p * m / rank, running minimum from the top
    assert got == pytest.approx({"a": 0.004, "b": 0.024, "c": 0.04, "d": 0.04})
    assert all(e.significant for e in effects[:4])
    assert family.ci_level == pytest.approx(1 - 4 * 0.05 / 4)  # R = 4 rejections of m = 4
    low, high = effects[0].interval(family.ci_level)
    assert high - low < effects[0].interval(1 - 0.05 / 4)[1] - effects[0].interval(1 - 0.05 / 4)[0]
