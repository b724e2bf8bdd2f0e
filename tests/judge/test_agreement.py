"""Judge-human agreement: ROC-AUC, Kendall's tau overall and within groups, critic reference."""

from __future__ import annotations

import pytest
from scipy.stats import kendalltau

from intentkg.judge.agreement import human_agreement


def test_agreement_numbers():
    labels = [{"candidate_id": f"c{i}", "plausibility": i % 2 == 0, "typicality": None if i == 5 else i < 3}
              for i in range(6)]
    scores = [0.9, 0.2, 0.7, 0.75, 0.8, 0.1]  # one inversion: 0.7 < 0.75
    verdicts = [{"candidate_id": f"c{i}", "group_id": "g1" if i < 3 else "g2", "score": s} for i, s in enumerate(scores)]
    verdicts.append({"candidate_id": "c9", "group_id": "g3", "score": None})
    critic = [{"candidate_id": f"c{i}", "task": "plausibility", "split": "test", "calibrated": 1.0 - i / 10}
              for i in range(6)]
    report = human_agreement(verdicts, labels, critic)
    p = report["plausibility"]
    assert report["scored"] == 6 and report["failed"] == 1
    assert p["roc_auc"] == pytest.approx(8 / 9, abs=1e-4)
    assert p["kendall_tau"] == pytest.approx(kendalltau(scores, [1, 0, 1, 0, 1, 0]).statistic, abs=1e-4)
    assert p["groups_with_tau"] == 2 and p["kendall_tau_within_groups"] is not None
    assert p["reference"]["n"] == 6 and p["reference"]["judge_roc_auc"] == p["roc_auc"]
    assert report["typicality"]["n"] == 5
    assert human_agreement([], labels)["plausibility"]["roc_auc"] is None
