"""Final labels: what the two annotators agreed on, and the resolver's word where they did not.

Per question: both annotators said the same -> that answer (``agreed``); they differ and a resolver
answered -> the resolver's answer (``resolved``); they differ and nobody resolved it yet ->
undetermined (``disputed``); only one annotator answered -> that answer (``single``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from intentkg.annotate.questions import NAMES
from intentkg.annotate.store import Answer, Item


@dataclass
class FinalLabel:
    item_id: str
    values: dict[str, bool | None]
    how: dict[str, str]  # question -> agreed | resolved | disputed | single | missing
    annotators: list[str] = field(default_factory=list)
    resolver: str | None = None

    @property
    def status(self) -> str:
        kinds = set(self.how.values())
        if "disputed" in kinds:
            return "disputed"
        if "resolved" in kinds:
            return "resolved"
        if kinds <= {"agreed"}:
            return "agreed"
        return "single" if "single" in kinds else "missing"


def final_labels(answers: list[Answer]) -> dict[str, FinalLabel]:
    """One FinalLabel per item that has at least one annotator answer."""
    by_item: dict[str, dict[str, list[Answer]]] = defaultdict(lambda: defaultdict(list))
    for a in answers:
        by_item[a.item_id][a.role].append(a)
    out: dict[str, FinalLabel] = {}
    for item_id, roles in by_item.items():
        pair = roles.get("annotator", [])[:2]
        if not pair:
            continue
        resolver = (roles.get("resolver") or [None])[0]
        values: dict[str, bool | None] = {}
        how: dict[str, str] = {}
        for q in NAMES:
            given = [a.values.get(q) for a in pair if a.values.get(q) is not None]
            if not given:
                values[q], how[q] = None, "missing"
            elif len(given) == 1:
                values[q], how[q] = given[0], "single"
            elif given[0] == given[1]:
                values[q], how[q] = given[0], "agreed"
            elif resolver is not None and resolver.values.get(q) is not None:
                values[q], how[q] = resolver.values[q], "resolved"
            else:
                values[q], how[q] = None, "disputed"
        out[item_id] = FinalLabel(item_id, values, how, [a.annotator for a in pair],
                                  resolver.annotator if resolver else None)
    return out


def label_rows(items: list[Item], labels: dict[str, FinalLabel]) -> list[dict]:
    """Items joined with their final labels: the rows a critic trains on."""
    rows = []
    for item in items:
        label = labels.get(item.item_id)
        if label is None:
            continue
        row = {"candidate_id": item.item_id, "behavior_id": item.behavior_id, "kind": item.kind,
               "head": item.head, "relation": item.relation, "tail": item.tail, "category": item.category,
               "batch": item.batch, "status": label.status}
        for q in NAMES:
            row[q] = label.values[q]
            row[f"{q}_how"] = label.how[q]
        rows.append(row)
    return rows
