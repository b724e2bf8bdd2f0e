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
