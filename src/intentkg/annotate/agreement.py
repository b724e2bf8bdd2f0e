"""Inter-annotator agreement: per question Cohen's kappa and percent agreement, per annotator
statistics, the pilot report and the audit result, as one JSON-able dict.

Each item's first two annotator answers form a pair. With a pool of annotators the two raters of
a pair differ from item to item, so the per-question kappa treats "first answer" and "second
answer" as the two raters (the usual approximation); per annotator-pair kappas are listed too,
for pairs that share at least ``MIN_PAIR_ITEMS`` items.
"""

from __future__ import annotations

import statistics
import warnings
from collections import Counter, defaultdict
from typing import Any

from sklearn.metrics import cohen_kappa_score

from intentkg.annotate.labels import final_labels
from intentkg.annotate.questions import NAMES
from intentkg.annotate.store import Answer, Item

MIN_PAIR_ITEMS = 10
AUDIT_TARGET = 0.90
LOW_KAPPA = 0.40  # below this a question's guideline needs work (Landis & Koch: "moderate" starts at 0.41)


def kappa(a: list[bool], b: list[bool]) -> float | None:
    """Cohen's kappa, or None when it is undefined (fewer than 2 items, or one label throughout)."""
    if len(a) < 2 or len(set(a) | set(b)) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = float(cohen_kappa_score(a, b))
    return None if value != value else round(value, 4)  # NaN -> None


def question_stats(pairs: list[tuple[Answer, Answer]]) -> dict[str, dict[str, Any]]:
    out = {}
    for q in NAMES:
        both = [(x.values[q], y.values[q]) for x, y in pairs if x.values[q] is not None and y.values[q] is not None]
        a, b = [p[0] for p in both], [p[1] for p in both]
        agree = sum(p == r for p, r in both)
        out[q] = {
            "n": len(both),
            "percent_agreement": round(agree / len(both), 4) if both else None,
            "kappa": kappa(a, b),
            "yes_rate": round((sum(a) + sum(b)) / (2 * len(both)), 4) if both else None,
        }
    return out


def _pairs(answers: list[Answer], items: set[str] | None = None) -> list[tuple[Answer, Answer]]:
    by_item: dict[str, list[Answer]] = defaultdict(list)
    for a in answers:
        if a.role == "annotator" and (items is None or a.item_id in items):
            by_item[a.item_id].append(a)
    return [(v[0], v[1]) for v in by_item.values() if len(v) >= 2]


def per_annotator(answers: list[Answer], pairs: list[tuple[Answer, Answer]], finals: dict) -> dict[str, Any]:
    mine: dict[str, list[Answer]] = defaultdict(list)
    for a in answers:
        if a.role == "annotator":
            mine[a.annotator].append(a)
    partner: dict[str, list[tuple[Answer, Answer]]] = defaultdict(list)
    for x, y in pairs:
        partner[x.annotator].append((x, y))
        partner[y.annotator].append((y, x))
    out = {}
    for name, given in sorted(mine.items()):
        seconds = [a.seconds for a in given if a.seconds is not None]
        row: dict[str, Any] = {"answered": len(given),
                               "median_seconds": round(statistics.median(seconds), 2) if seconds else None,
                               "yes_rate": {}, "agreement_with_partner": {}, "agreement_with_final": {}}
        for q in NAMES:
            vals = [a.values[q] for a in given if a.values[q] is not None]
            row["yes_rate"][q] = round(sum(vals) / len(vals), 4) if vals else None
            both = [(s.values[q], o.values[q]) for s, o in partner[name]
                    if s.values[q] is not None and o.values[q] is not None]
            row["agreement_with_partner"][q] = round(sum(s == o for s, o in both) / len(both), 4) if both else None
            final = [(a.values[q], finals[a.item_id].values[q]) for a in given
                     if a.item_id in finals and a.values[q] is not None and finals[a.item_id].values[q] is not None]
            row["agreement_with_final"][q] = round(sum(s == f for s, f in final) / len(final), 4) if final else None
        out[name] = row
    return out


def pair_kappas(pairs: list[tuple[Answer, Answer]]) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, str], list[tuple[Answer, Answer]]] = defaultdict(list)
    for x, y in pairs:
        key = tuple(sorted((x.annotator, y.annotator)))
        grouped[key].append((x, y) if x.annotator == key[0] else (y, x))
    rows = []
    for (a, b), group in sorted(grouped.items()):
        if len(group) >= MIN_PAIR_ITEMS:
            stats = question_stats(group)
            rows.append({"a": a, "b": b, "items": len(group), "kappa": {q: stats[q]["kappa"] for q in NAMES}})
    return rows


def audit_result(answers: list[Answer], finals: dict) -> dict[str, Any]:
    audits = [a for a in answers if a.role == "auditor"]
    acc: dict[str, Any] = {}
    hits = total = 0
    for q in NAMES:
        both = [(a.values[q], finals[a.item_id].values[q]) for a in audits
                if a.item_id in finals and a.values[q] is not None and finals[a.item_id].values[q] is not None]
        acc[q] = round(sum(x == y for x, y in both) / len(both), 4) if both else None
        hits += sum(x == y for x, y in both)
        total += len(both)
    overall = round(hits / total, 4) if total else None
    return {"items": len({a.item_id for a in audits}), "accuracy": acc, "overall": overall,
            "target": AUDIT_TARGET, "passed": None if overall is None else overall >= AUDIT_TARGET}


def compute_agreement(items: list[Item], answers: list[Answer]) -> dict[str, Any]:
    """The whole agreement report for a store's items and answers."""
    pairs = _pairs(answers)
    finals = final_labels(answers)
    batches = defaultdict(set)
    for item in items:
        batches[item.batch].add(item.item_id)
    pilot_pairs = _pairs(answers, batches.get("pilot", set()))
    rest = set().union(*[ids for b, ids in batches.items() if b != "pilot"]) if batches else set()
    questions = question_stats(pairs)
    pilot = None
    if batches.get("pilot"):
        pilot_q = question_stats(pilot_pairs)
        pilot = {"items": len(batches["pilot"]), "items_with_two": len(pilot_pairs), "questions": pilot_q,
                 "after_pilot": question_stats(_pairs(answers, rest)),
                 "needs_guideline_work": [q for q in NAMES if (pilot_q[q]["kappa"] or 0) < LOW_KAPPA]}
    disputed_items = sum(1 for f in finals.values() if "disputed" in f.how.values() or "resolved" in f.how.values())
    return {
        "items": len(items),
        "answers": dict(Counter(a.role for a in answers)),
        "items_with_two": len(pairs),
        "annotators": sorted({a.annotator for a in answers if a.role == "annotator"}),
        "questions": questions,
        "low_agreement": [q for q in NAMES if questions[q]["kappa"] is not None and questions[q]["kappa"] < LOW_KAPPA],
        "per_annotator": per_annotator(answers, pairs, finals),
        "annotator_pairs": pair_kappas(pairs),
        "pilot": pilot,
        "resolution": {"items_with_disagreement": disputed_items,
                       "resolved": sum(1 for f in finals.values() if f.status == "resolved"),
                       "open": sum(1 for f in finals.values() if f.status == "disputed")},
        "final_labels": dict(Counter(f.status for f in finals.values())),
        "audit": audit_result(answers, finals),
    }
