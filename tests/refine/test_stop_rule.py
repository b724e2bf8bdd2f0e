"""The guard's stop rule and checkpoint choice on hand-made curves and on a curve recorded by a real run."""

from __future__ import annotations

import json
from pathlib import Path

from intentkg.refine.stop_rule import best_point, diverged, hacking_at

DATA = Path(__file__).parent / "data"


def _curve(rewards, agreements, critic=None):
    critic = critic or [0.0] * len(rewards)
    return [{"step": 5 * i, "reward": r, "agreement": a, "heldout_critic": c}
            for i, (r, a, c) in enumerate(zip(rewards, agreements, critic))]


def test_fires_after_patience_evaluations_of_rising_reward_and_falling_agreement():
    curve = _curve([0.1, 0.2, 0.3, 0.4, 0.5], [0.5, 0.6, 0.4, 0.3, 0.2])
    # pairs (1,2) (2,3) (3,4) diverge; (0,1) does not (agreement rose): two in a row first at index 3
    assert hacking_at(curve, patience=2) == 3
    assert hacking_at(curve, patience=3) == 4
    assert hacking_at(curve, patience=4) is None


def test_an_interruption_resets_the_count():
    curve = _curve([0.1, 0.2, 0.25, 0.2, 0.3, 0.4], [0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
    assert hacking_at(curve, patience=3) is None  # reward fell at index 3
    assert hacking_at(curve, patience=2) == 2


def test_both_up_is_learning_not_hacking():
    assert hacking_at(_curve([0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]), patience=1) is None


def test_tolerance_ignores_small_moves_and_a_negative_one_forces_the_stop():
    curve = _curve([0.10, 0.11, 0.12], [0.50, 0.49, 0.48])
    assert hacking_at(curve, patience=2) == 2
    assert hacking_at(curve, patience=2, tolerance=0.05) is None
    flat = _curve([0.1, 0.1, 0.1], [None, None, None])
    assert hacking_at(flat, patience=2) is None
    assert hacking_at(flat, patience=2, tolerance=-1.0) == 2


def test_missing_agreement_never_counts_as_falling():
    assert not diverged({"reward": 0.1, "agreement": None}, {"reward": 0.9, "agreement": 0.1})


def test_best_point_is_the_highest_heldout_critic_earliest_on_ties():
    curve = _curve([0, 0, 0, 0], [0, 0, 0, 0], [0.2, 0.5, 0.5, float("nan")])
    assert best_point(curve) == 1
    assert best_point([]) is None


def test_recorded_curve_of_a_real_run():
    """The guard curves of real CPU runs (docs/refine.md, "A longer run"); expectations read off the
    numbers by hand, not from the code."""
    for run in json.loads((DATA / "recorded_curve.json").read_text())["runs"]:
        curve, expected = run["guard"], run["expected"]
        assert hacking_at(curve, patience=expected["patience"]) == expected["fires_at"], run["source"]
        assert best_point(curve) == expected["best"], run["source"]
