"""The trainable heads on top of frozen features: logistic regression and a small MLP (scikit-learn).

Both standardise the features first and weight classes inversely to their frequency (ESCI is
dominated by Exact; unweighted heads learn to say E and score a low macro-F1). Logistic regression
(lbfgs) is deterministic, so every seed gives the same model: :func:`fit_predict` fits it once and
reuses the predictions. The MLP's seed sets its initialisation and early-stopping split; it gets
no early stopping when a class has fewer than 5 training rows (the held-out slice could miss it).
``mlp_vote`` is one head made of ``members`` MLPs (seeds 0 .. members-1) that predicts the class
with the highest mean probability over them (a soft vote): a small change in the features moves
each member's training somewhere else, and their average much less. It ignores the loop's seed, so
it is fitted once, as logistic regression is.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

HEADS = ("logreg", "mlp", "mlp_vote")
# These heads are small: one BLAS thread is as fast as several on an idle machine and 5-15x faster
# on a busy one (OpenBLAS threads spin while they wait for a core).
BLAS_THREADS = 1
HeadName = Literal["logreg", "mlp", "mlp_vote"]


def make_head(name: str, seed: int = 0, mlp_hidden: int = 256, max_iter: int = 200, early_stopping: bool = True,
              members: int = 1):
    """The head as a scikit-learn pipeline; ``mlp_vote`` is scikit-learn's soft ``VotingClassifier`` over
    ``members`` MLPs of seeds 0 .. members-1 (``seed`` is then not used)."""
    from sklearn.ensemble import VotingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def mlp(random_state: int) -> MLPClassifier:
        return MLPClassifier(hidden_layer_sizes=(mlp_hidden,), alpha=1e-3, early_stopping=early_stopping,
                             validation_fraction=0.15, n_iter_no_change=10, max_iter=max_iter,
                             random_state=random_state)

    if name == "logreg":
        model = LogisticRegression(C=0.5, max_iter=max(max_iter, 1000), class_weight="balanced")
    elif name == "mlp":
        model = mlp(seed)
    elif name == "mlp_vote":
        if members < 1:
            raise ValueError(f"mlp_vote needs at least one member, got {members}")
        model = VotingClassifier([(f"mlp{m}", mlp(m)) for m in range(members)], voting="soft")
    else:
        raise ValueError(f"unknown head {name!r}; choose from {', '.join(HEADS)}")
    return make_pipeline(StandardScaler(), model)


def balanced_weights(y: np.ndarray) -> np.ndarray:
    classes, counts = np.unique(y, return_counts=True)
    weight = {c: len(y) / (len(classes) * n) for c, n in zip(classes, counts)}
    return np.array([weight[v] for v in y], dtype=np.float64)


def fit_predict(name: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, seed: int = 0,
                members: int = 1, **options) -> np.ndarray:
    """Fit a head on the training rows and predict the test rows (``members``: MLPs in ``mlp_vote``)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    classes = np.unique(y_train)
    if len(classes) == 1:  # nothing to learn; predicting the only class is the honest answer
        return np.full(len(x_test), classes[0], dtype=y_train.dtype)
    options.setdefault("early_stopping", bool(np.unique(y_train, return_counts=True)[1].min() >= 5))
    head = make_head(name, seed, members=members, **options)
    fit_options = {"logreg": {}, "mlp": {"mlpclassifier__sample_weight": balanced_weights(y_train)},
                   "mlp_vote": {"votingclassifier__sample_weight": balanced_weights(y_train)}}[name]
    with warnings.catch_warnings(), threadpool_limits(BLAS_THREADS):
        warnings.simplefilter("ignore", ConvergenceWarning)
        head.fit(x_train, y_train, **fit_options)
    return head.predict(x_test)


def deterministic(name: str) -> bool:
    """Whether a head's fit ignores the seed (then one fit serves every seed)."""
    return name in ("logreg", "mlp_vote")


def fits_per_call(name: str, members: int) -> int:
    """Models one :func:`fit_predict` call trains (for progress)."""
    return members if name == "mlp_vote" else 1
