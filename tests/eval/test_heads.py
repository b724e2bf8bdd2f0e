import numpy as np
import pytest

from intentkg.eval.heads import balanced_weights, deterministic, fit_predict, make_head


def _blobs(seed=0, n=300):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 8)) + np.eye(3, 8)[y] * 3
    return x.astype(np.float32), y


@pytest.mark.parametrize("head", ["logreg", "mlp"])
def test_heads_learn_separable_classes(head):
    x, y = _blobs()
    predicted = fit_predict(head, x[:200], y[:200], x[200:], seed=1)
    assert (predicted == y[200:]).mean() > 0.85


def test_determinism_and_edge_cases():
    x, y = _blobs()
    assert deterministic("logreg") and not deterministic("mlp")
    a = fit_predict("mlp", x[:200], y[:200], x[200:], seed=3)
    assert (a == fit_predict("mlp", x[:200], y[:200], x[200:], seed=3)).all()
    only = fit_predict("logreg", x[:10], np.zeros(10, dtype=np.int64), x[:4])
    assert only.tolist() == [0, 0, 0, 0]
    rare = y[:60].copy()
    rare[0] = 7  # a class with one row: the MLP trains without early stopping instead of failing
    assert len(fit_predict("mlp", x[:60], rare, x[60:70])) == 10
    weights = balanced_weights(np.array([0, 0, 0, 1]))
    assert np.isclose(weights[:3].sum(), weights[3])
    with pytest.raises(ValueError):
        make_head("svm")


def test_mlp_vote_predicts_the_class_of_the_highest_mean_probability_over_its_members():
    rng = np.random.default_rng(0)  # imbalanced, overlapping classes: the balanced weights change the answers
    y = rng.choice(3, 300, p=[0.7, 0.2, 0.1])
    x = (rng.normal(size=(300, 8)) + np.eye(3, 8)[y] * 0.7).astype(np.float32)
    members = []
    for seed in range(3):  # the members, trained here as plain MLPs of seeds 0, 1, 2
        head = make_head("mlp", seed)
        head.fit(x[:200], y[:200], mlpclassifier__sample_weight=balanced_weights(y[:200]))
        members.append(head.predict_proba(x[200:]))
    expected = np.argmax(np.mean(members, axis=0), axis=1)
    unweighted = [make_head("mlp", seed).fit(x[:200], y[:200]).predict_proba(x[200:]) for seed in range(3)]
    assert (np.argmax(np.mean(unweighted, axis=0), axis=1) != expected).any()  # so the weights are checked too
    voted = fit_predict("mlp_vote", x[:200], y[:200], x[200:], seed=9, members=3)
    assert voted.tolist() == expected.tolist()
    assert deterministic("mlp_vote")  # the loop's seed is ignored: one fit serves every seed
    assert fit_predict("mlp_vote", x[:200], y[:200], x[200:], seed=0, members=3).tolist() == voted.tolist()
    single = fit_predict("mlp_vote", x[:200], y[:200], x[200:], members=1)
    assert single.tolist() == fit_predict("mlp", x[:200], y[:200], x[200:], seed=0).tolist()
    with pytest.raises(ValueError):
        fit_predict("mlp_vote", x[:200], y[:200], x[200:], members=0)
