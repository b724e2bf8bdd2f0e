import numpy as np
from sklearn.metrics import f1_score

from intentkg.eval.metrics import compare, f1_from_confusion, per_query_confusion, point_scores

LABELS = ("E", "S", "C", "I")


def _data(seed=0, n=400, queries=50):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    groups = rng.integers(0, queries, n).astype(str)
    weak = np.where(rng.random(n) < 0.4, y, rng.integers(0, 4, n))
    strong = np.where(rng.random(n) < 0.8, y, rng.integers(0, 4, n))
    return y, groups, weak, strong


def test_confusion_f1_matches_sklearn():
    y, groups, weak, _ = _data()
    conf = per_query_confusion(y, weak, groups, 4).sum(0)
    per_class, macro, micro = f1_from_confusion(conf, 4, np.ones(4, dtype=bool))
    assert np.allclose(per_class, f1_score(y, weak, average=None))
    assert np.isclose(macro, f1_score(y, weak, average="macro"))
    assert np.isclose(micro, f1_score(y, weak, average="micro"))
    points = point_scores(y, weak, LABELS)
    assert np.isclose(points["macro_f1"], macro) and set(points["per_class_f1"]) == set(LABELS)


def test_lift_interval_is_paired_seeded_and_sensible():
    y, groups, weak, strong = _data()
    result = compare(y, groups, [weak, weak], [strong, strong], LABELS, n_boot=300, seed=0)
    assert result == compare(y, groups, [weak, weak], [strong, strong], LABELS, n_boot=300, seed=0)
    lift = result["lift"]["macro_f1"]
    assert lift["abs"] > 0.2 and lift["abs_ci"][0] > 0 and lift["p_positive"] == 1.0
    lo, hi = result["with"]["macro_f1"]["ci"]
    assert lo < result["with"]["macro_f1"]["mean"] < hi
    assert np.isclose(lift["rel"], lift["abs"] / result["without"]["macro_f1"]["mean"])
    # paired: the lift interval is narrower than the two settings' intervals side by side
    assert lift["abs_ci"][1] - lift["abs_ci"][0] < (hi - lo) + np.subtract(*result["without"]["macro_f1"]["ci"][::-1])
    same = compare(y, groups, [weak], [weak], LABELS, n_boot=100)
    assert same["lift"]["macro_f1"]["abs"] == 0 and same["lift"]["macro_f1"]["abs_ci"] == [0.0, 0.0]
    assert result["n_queries"] == 50 and result["n_pairs"] == 400


def test_seeds_are_averaged_and_absent_classes_left_out():
    y = np.array([0, 0, 1, 1, 0, 1])  # no C, no I in the truth
    groups = np.array(["a", "a", "b", "b", "c", "c"])
    p1 = np.array([0, 0, 1, 1, 0, 1])
    p2 = np.array([0, 3, 1, 1, 0, 1])
    result = compare(y, groups, [p1, p2], [p1, p1], LABELS, n_boot=50)
    seeds = result["without"]["macro_f1"]["seeds"]
    assert seeds[0] == 1.0 and seeds[1] < 1.0 and np.isclose(result["without"]["macro_f1"]["mean"], np.mean(seeds))
    assert set(result["without"]["per_class_f1"]) == {"E", "S"}
    assert result["with"]["macro_f1"]["ci"] == [1.0, 1.0]
