"""Held-out evaluation of one critic task: ranking, threshold and calibration metrics in one dict.

The primary metric is ROC-AUC (``PRIMARY``). Precision at a recall is the best precision any
threshold reaches while keeping at least that recall.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, f1_score, precision_recall_curve, roc_auc_score

PRIMARY = "roc_auc"
RECALLS = (0.5, 0.7, 0.8, 0.9)


def precision_at_recall(labels: np.ndarray, probs: np.ndarray, recall: float) -> float | None:
    if labels.sum() == 0:
        return None
    precision, rec, _ = precision_recall_curve(labels, probs)
    ok = rec >= recall
    return float(precision[ok].max()) if ok.any() else None


def expected_calibration_error(labels: np.ndarray, probs: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probs, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(probs[mask].mean() - labels[mask].mean())
    return float(total)


def evaluate(labels, probs, threshold: float = 0.5) -> dict[str, Any]:
    """Metrics of probabilities ``probs`` against 0/1 ``labels`` (None where undefined)."""
    y = np.asarray(labels, dtype=int)
    p = np.asarray(probs, dtype=float)
    both = 0 < y.sum() < len(y)
    predicted = (p >= threshold).astype(int)
    tp = int(((predicted == 1) & (y == 1)).sum())
    return {
        "n": int(len(y)), "positives": int(y.sum()),
        "roc_auc": round(float(roc_auc_score(y, p)), 4) if both else None,
        "average_precision": round(float(average_precision_score(y, p)), 4) if both else None,
        "threshold": round(float(threshold), 4),
        "f1": round(float(f1_score(y, predicted, zero_division=0)), 4),
        "precision": round(tp / predicted.sum(), 4) if predicted.sum() else None,
        "recall": round(tp / y.sum(), 4) if y.sum() else None,
        "accuracy": round(float((predicted == y).mean()), 4) if len(y) else None,
        "precision_at_recall": {str(r): _round(precision_at_recall(y, p, r)) for r in RECALLS},
        "brier": round(float(brier_score_loss(y, p)), 4) if len(y) else None,
        "ece": round(expected_calibration_error(y, p), 4) if len(y) else None,
    }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
