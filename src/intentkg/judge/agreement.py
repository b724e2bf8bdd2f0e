"""How well the judge agrees with people: Kendall's tau and ROC-AUC against the final human labels.

For each question (plausibility, typicality) over the candidates that have both a judge score and
a determined human label:

- ``roc_auc``: the probability that a candidate people said yes to scores above one they said no to;
- ``kendall_tau``: tau-b between judge score and the 0/1 label over all candidates;
- ``kendall_tau_within_groups``: the mean tau inside each judged group (the judge's relative
  ranking of one behaviour's candidates), over groups with at least two candidates and both labels;
- ``reference``: on the same candidates, the critic's test-split ROC-AUC where the critic saw them.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from typing import Any

import numpy as np
from scipy.stats import kendalltau
from sklearn.metrics import roc_auc_score

QUESTIONS = ("plausibility", "typicality")


def _tau(x, y) -> float | None:
    if len(x) < 2 or len(set(x)) < 2 or len(set(y)) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = kendalltau(x, y).statistic
    return None if value is None or np.isnan(value) else round(float(value), 4)


def human_agreement(verdicts: list[dict], labels: list[dict], critic: list[dict] | None = None) -> dict[str, Any]:
    """``verdicts``: candidate_id, group_id, score; ``labels``: candidate_id + question columns."""
    scored = {v["candidate_id"]: v for v in verdicts if v.get("score") is not None}
    by_id = {r["candidate_id"]: r for r in labels}
    out: dict[str, Any] = {"judged": len(verdicts), "scored": len(scored),
                           "failed": sum(1 for v in verdicts if v.get("score") is None)}
    for q in QUESTIONS:
        pairs = [(scored[c]["score"], int(by_id[c][q]), scored[c]["group_id"])
                 for c in scored if c in by_id and by_id[c].get(q) is not None]
        scores = [p[0] for p in pairs]
        human = [p[1] for p in pairs]
        groups: dict[str, list[tuple[float, int]]] = defaultdict(list)
        for s, h, g in pairs:
            groups[g].append((s, h))
        within = [t for t in (_tau([s for s, _ in m], [h for _, h in m]) for m in groups.values() if len(m) >= 2)
                  if t is not None]
        row: dict[str, Any] = {
            "n": len(pairs), "positives": int(sum(human)),
            "roc_auc": round(float(roc_auc_score(human, scores)), 4) if 0 < sum(human) < len(human) else None,
            "kendall_tau": _tau(scores, human),
            "kendall_tau_within_groups": round(float(np.mean(within)), 4) if within else None,
            "groups_with_tau": len(within),
            "mean_score_yes": round(float(np.mean([s for s, h in zip(scores, human) if h])), 4) if sum(human) else None,
            "mean_score_no": round(float(np.mean([s for s, h in zip(scores, human) if not h])), 4)
            if sum(human) < len(human) else None,
        }
        if critic:
            test = {p["candidate_id"]: p["calibrated"] for p in critic if p["task"] == q and p["split"] == "test"}
            common = [c for c in scored if c in test and c in by_id and by_id[c].get(q) is not None]
            ys = [int(by_id[c][q]) for c in common]
            if common and 0 < sum(ys) < len(ys):
                row["reference"] = {"n": len(common),
                                    "critic_roc_auc": round(float(roc_auc_score(ys, [test[c] for c in common])), 4),
                                    "judge_roc_auc": round(float(roc_auc_score(ys, [scored[c]["score"] for c in common])), 4)}
        out[q] = row
    return out
