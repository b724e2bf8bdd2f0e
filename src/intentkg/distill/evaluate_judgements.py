"""The yes/no tasks of ``intentkg distill eval``: plausibility, typicality, search relevance, co-purchase.

Each held-out row is asked exactly as the student was trained (the row's own prompt messages) and
scored by P(yes) from the model's next-token log-probs (:mod:`intentkg.llm.yes_no`). The teacher is
asked the same messages (rendered as a plain prompt when it has no chat template).

- plausibility / typicality: ROC-AUC against the rows' human labels (``label_source = human``), with
  the workspace critic's stored score of the same candidates beside them;
- search relevance: macro-F1 of P(yes) >= 0.5 over relevant / not relevant;
- co-purchase: ROC-AUC.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

JUDGED = ("plausibility", "typicality")
AUC_TASKS = ("plausibility", "typicality", "co_purchase")


def roc_auc(labels: Sequence[bool], scores: Sequence[float]) -> float | None:
    """ROC-AUC, None when only one class is present (or no row)."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    keep = ~np.isnan(s)
    if keep.sum() < 2 or y[keep].all() or not y[keep].any():
        return None
    return float(roc_auc_score(y[keep], s[keep]))


def macro_f1(labels: Sequence[bool], scores: Sequence[float], threshold: float = 0.5) -> float | None:
    from sklearn.metrics import f1_score

    if not len(labels):
        return None
    predicted = np.asarray(scores, dtype=np.float64) >= threshold
    return float(f1_score(np.asarray(labels, dtype=bool), predicted, average="macro", labels=[False, True],
                          zero_division=0))


def held_out(rows: list[dict], task: str) -> list[dict]:
    """The rows of ``task`` that count: human-labelled for plausibility/typicality, every row otherwise."""
    chosen = [r for r in rows if r["task"] == task and r["label"] is not None]
    if task in JUDGED:
        chosen = [r for r in chosen if r["label_source"] == "human"]
    return chosen


def ask(scorer, rows: list[dict]) -> tuple[np.ndarray, float]:
    """P(yes) of each row and the seconds it took."""
    started = time.perf_counter()
    values = scorer.probabilities([[dict(m) for m in r["prompt"]] for r in rows])
    return values, time.perf_counter() - started


def critic_scores(rows: list[dict], scores: dict[str, dict], task: str) -> list[float]:
    """The workspace critic's stored score of each row's candidate (NaN when it has none)."""
    out = []
    for row in rows:
        value = next((scores[c][task] for c in row.get("source_ids") or [] if c in scores
                      and scores[c].get(task) is not None), None)
        out.append(np.nan if value is None else float(value))
    return out


def measure(task: str, rows: list[dict], student, teacher, scores: dict[str, dict] | None) -> dict[str, Any]:
    """One task's metric for the student, the teacher (and the critic, for plausibility/typicality)."""
    labels = [bool(r["label"]) for r in rows]
    metric = "macro_f1" if task == "search_relevance" else "roc_auc"
    score = macro_f1 if metric == "macro_f1" else roc_auc
    out: dict[str, Any] = {"task": task, "metric": metric, "rows": len(rows),
                           "positives": int(sum(labels))}
    for name, model in (("student", student), ("teacher", teacher)):
        if model is None or not rows:
            out[name] = None
            continue
        values, seconds = ask(model, rows)
        out[name] = score(labels, values)
        out[f"{name}_seconds"] = round(seconds, 3)
    if task in JUDGED and scores is not None:
        out["critic"] = score(labels, critic_scores(rows, scores, task))
    return out
