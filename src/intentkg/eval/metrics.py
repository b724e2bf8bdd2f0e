"""Macro-F1, micro-F1 and per-class F1 with bootstrap confidence intervals over queries.

Pairs of one query are not independent (same query text, same annotator session), so the
bootstrap resamples *queries* with replacement and keeps all their pairs. It is paired: the with-
and without-knowledge predictions are scored on the same resampled queries, which is what makes
the interval of the lift (with minus without) narrower than the two intervals side by side.

Several seeds: each replicate scores every seed and averages them, so the interval is the
interval of the seed-averaged model; the per-seed values are reported next to it.

Macro-F1 averages the classes present in the evaluated rows' true labels (a class absent from the
test set cannot be scored); within a replicate, a class with no true and no predicted pair is
left out of that replicate's average. Micro-F1 of single-label classification equals accuracy.
Point estimates come from scikit-learn's f1_score; the bootstrap uses confusion matrices summed
per query (one matrix product per replicate batch), which gives the same numbers.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

CI_LEVEL = 0.95


def per_query_confusion(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray, n_classes: int) -> np.ndarray:
    """(queries, n_classes * n_classes) counts; rows follow ``np.unique(groups)``."""
    _, g = np.unique(groups, return_inverse=True)
    flat = g * n_classes * n_classes + y_true * n_classes + y_pred
    counts = np.bincount(flat, minlength=(g.max() + 1) * n_classes * n_classes)
    return counts.reshape(g.max() + 1, n_classes * n_classes).astype(np.float64)


def f1_from_confusion(conf: np.ndarray, n_classes: int,
                      present: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From (..., C*C) confusion counts: per-class F1 (..., C), macro-F1 (...), micro-F1 (...)."""
    m = conf.reshape(*conf.shape[:-1], n_classes, n_classes)
    tp = np.diagonal(m, axis1=-2, axis2=-1)
    fp = m.sum(axis=-2) - tp
    fn = m.sum(axis=-1) - tp
    denom = 2 * tp + fp + fn
    f1 = np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a replicate where no present class occurs
        macro = np.nanmean(np.where(present, f1, np.nan), axis=-1)
    micro = tp.sum(axis=-1) / np.maximum(m.sum(axis=(-2, -1)), 1)
    return f1, macro, micro


def point_scores(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str]) -> dict:
    from sklearn.metrics import f1_score

    present = sorted(set(np.unique(y_true).tolist()))
    per_class = f1_score(y_true, y_pred, labels=list(range(len(labels))), average=None, zero_division=0)
    return {
        "macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "per_class_f1": {labels[i]: float(per_class[i]) for i in present},
    }


def _ci(values: np.ndarray) -> list[float]:
    lo, hi = np.nanpercentile(values, [100 * (1 - CI_LEVEL) / 2, 100 * (1 + CI_LEVEL) / 2])
    return [float(lo), float(hi)]


def _replicate_weights(n_groups: int, n_boot: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_groups, size=(n_boot, n_groups))
    weights = np.zeros((n_boot, n_groups), dtype=np.float64)
    np.add.at(weights, (np.repeat(np.arange(n_boot), n_groups), draws.ravel()), 1.0)
    return weights


def compare(y_true: np.ndarray, groups: np.ndarray, without: Sequence[np.ndarray], with_: Sequence[np.ndarray],
            labels: Sequence[str], n_boot: int = 1000, seed: int = 0, keep_replicates: bool = False) -> dict:
    """Scores of both settings (one prediction array per seed each) and the lift, with intervals;
    ``keep_replicates``: also ``_replicates`` (metric -> the lift's bootstrap values, not JSON)."""
    n_classes = len(labels)
    present = np.zeros(n_classes, dtype=bool)
    present[np.unique(y_true)] = True
    weights = _replicate_weights(len(np.unique(groups)), n_boot, seed)
    out: dict = {}
    boot: dict[str, dict[str, np.ndarray]] = {}
    for name, runs in (("without", without), ("with", with_)):
        points = [point_scores(y_true, p, labels) for p in runs]
        confs = np.stack([per_query_confusion(y_true, p, groups, n_classes) for p in runs])  # (S, Q, C*C)
        per_class, macro, micro = f1_from_confusion(np.einsum("bq,sqk->sbk", weights, confs), n_classes, present)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            boot[name] = {"macro_f1": np.nanmean(macro, axis=0), "micro_f1": micro.mean(axis=0),
                          **{f"f1_{labels[c]}": np.nanmean(per_class[..., c], axis=0)
                             for c in np.flatnonzero(present)}}
        summary: dict = {}
        for metric in ("macro_f1", "micro_f1"):
            seeds = [p[metric] for p in points]
            summary[metric] = {"mean": float(np.mean(seeds)), "ci": _ci(boot[name][metric]),
                               "seeds": seeds, "seed_std": float(np.std(seeds))}
        summary["per_class_f1"] = {
            labels[c]: {"mean": float(np.mean([p["per_class_f1"][labels[c]] for p in points])),
                        "ci": _ci(boot[name][f"f1_{labels[c]}"])} for c in np.flatnonzero(present)}
        out[name] = summary
    lift: dict = {}
    replicates: dict[str, np.ndarray] = {}
    for metric in ("macro_f1", "micro_f1", *[f"f1_{labels[c]}" for c in np.flatnonzero(present)]):
        base, new = boot["without"][metric], boot["with"][metric]
        if metric.startswith("f1_"):
            label = metric[3:]
            point_base = out["without"]["per_class_f1"][label]["mean"]
            point_new = out["with"]["per_class_f1"][label]["mean"]
        else:
            point_base, point_new = out["without"][metric]["mean"], out["with"][metric]["mean"]
        diff = new - base
        replicates[metric] = diff
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.where(base > 0, diff / np.where(base > 0, base, 1), np.nan)
        lift[metric] = {"abs": point_new - point_base, "abs_ci": _ci(diff),
                        "rel": (point_new - point_base) / point_base if point_base > 0 else None,
                        "rel_ci": _ci(rel) if np.isfinite(rel).any() else None,
                        "p_positive": float(np.mean(diff > 0))}
    out["lift"] = lift
    if keep_replicates:
        out["_replicates"] = {m: replicates[m] for m in ("macro_f1", "micro_f1")}
    out["n_pairs"], out["n_queries"], out["n_boot"] = int(len(y_true)), int(len(np.unique(groups))), n_boot
    return out
