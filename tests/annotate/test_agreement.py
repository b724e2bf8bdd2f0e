"""Agreement numbers against hand-computed values and sklearn."""

from __future__ import annotations

from helpers.annotate_helpers import YES, make_items
from sklearn.metrics import cohen_kappa_score

from intentkg.annotate.agreement import compute_agreement, kappa
from intentkg.annotate.store import Answer


def _answers(pattern_a, pattern_b, items, role_b="annotator"):
    out = []
    for item, a, b in zip(items, pattern_a, pattern_b):
        out.append(Answer(item.item_id, "ann1", "annotator", dict(YES, plausibility=a), seconds=2.0))
        out.append(Answer(item.item_id, "ann2", role_b, dict(YES, plausibility=b), seconds=4.0))
    return out


def test_kappa_matches_sklearn_and_undefined_is_none():
    a, b = [1, 1, 0, 0, 1, 0], [1, 0, 0, 0, 1, 1]
    assert kappa(a, b) == round(cohen_kappa_score(a, b), 4)
    assert kappa([1, 1], [1, 1]) is None and kappa([1], [0]) is None


def test_report_per_question_annotator_pilot_and_audit():
    items = make_items(12)
    for item in items[:4]:
        item.batch = "pilot"
    a = [True] * 6 + [False] * 6
    b = [True] * 5 + [False] * 7  # one disagreement (item 5)
    answers = _answers(a, b, items)
    answers.append(Answer("c005", "res", "resolver", {"plausibility": True}))
    answers.append(Answer("c000", "boss", "auditor", YES))
    answers.append(Answer("c006", "boss", "auditor", dict(YES, plausibility=True)))  # final label is False
    report = compute_agreement(items, answers)
    p = report["questions"]["plausibility"]
    assert p["n"] == 12 and p["percent_agreement"] == round(11 / 12, 4)
    assert p["kappa"] == round(cohen_kappa_score(a, b), 4)
    assert report["questions"]["relevance"]["kappa"] is None  # everyone said yes: undefined
    assert report["per_annotator"]["ann1"]["answered"] == 12
    assert report["per_annotator"]["ann2"]["agreement_with_final"]["plausibility"] == round(11 / 12, 4)
    assert report["per_annotator"]["ann1"]["median_seconds"] == 2.0
    assert report["annotator_pairs"][0]["items"] == 12
    assert report["pilot"]["items"] == 4 and report["pilot"]["questions"]["plausibility"]["percent_agreement"] == 1.0
    assert report["resolution"] == {"items_with_disagreement": 1, "resolved": 1, "open": 0}
    assert report["audit"]["items"] == 2
    assert report["audit"]["accuracy"]["plausibility"] == 0.5
    assert report["audit"]["overall"] == 0.9 and report["audit"]["passed"] is True  # 9 of 10 answers match
    assert report["final_labels"] == {"agreed": 11, "resolved": 1}
