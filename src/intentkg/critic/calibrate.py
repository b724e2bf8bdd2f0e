"""Probability calibration by Platt scaling, folded into the model's last layer.

A two-label classifier's probability of "yes" is ``sigmoid(z)`` with ``z = logit_yes - logit_no``.
Platt scaling fits ``sigmoid(a * z + b)`` on the dev split. Because that is again linear in the
last layer's output, it can be written into the weights: the saved model then *is* calibrated, and
any consumer that takes the softmax (the filter's critic step) gets calibrated probabilities with
no extra file to apply. (Isotonic regression cannot be folded in this way, which is why it is not
the default; ``fit_isotonic`` is kept for comparing calibration error.)
"""

from __future__ import annotations

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression


def sigmoid(z) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))


def fit_platt(margins, labels) -> tuple[float, float]:
    """(a, b) with P(yes) = sigmoid(a * margin + b); identity when dev has a single class."""
    y = np.asarray(labels, dtype=int)
    if len(set(y.tolist())) < 2:
        return 1.0, 0.0
    lr = LogisticRegression(C=1e4, max_iter=1000)
    lr.fit(np.asarray(margins, dtype=float).reshape(-1, 1), y)
    return float(lr.coef_[0][0]), float(lr.intercept_[0])


def fit_isotonic(margins, labels) -> IsotonicRegression:
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    iso.fit(np.asarray(margins, dtype=float), np.asarray(labels, dtype=float))
    return iso


def final_linear(model):
    """The last Linear layer producing the label logits (classifier, or classifier.out_proj)."""
    import torch

    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear) and m.out_features == model.config.num_labels]
    if not layers:
        raise ValueError("no output layer with num_labels outputs found; cannot fold the calibration")
    return layers[-1]


def fold_platt(model, a: float, b: float) -> None:
    """Rewrite the 2-logit output layer so softmax(new logits)[1] == sigmoid(a * old_margin + b)."""
    import torch

    layer = final_linear(model)
    with torch.no_grad():
        d_w = layer.weight[1] - layer.weight[0]
        d_b = (layer.bias[1] - layer.bias[0]) if layer.bias is not None else torch.zeros(())
        new_w = a * d_w / 2
        new_b = (a * d_b + b) / 2
        layer.weight[1].copy_(new_w)
        layer.weight[0].copy_(-new_w)
        if layer.bias is None:
            raise ValueError("the output layer has no bias; cannot fold the Platt intercept")
        layer.bias[1].copy_(new_b)
        layer.bias[0].copy_(-new_b)
