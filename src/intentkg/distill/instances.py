"""Task instances from a workspace's tables: one dict per instance, before phrasing and splitting.

Each instance carries its answer, where it came from (``source_stage``, ``source_ids``), how it
was labelled (``label_source``, ``label_detail``) and its ``group``: the behaviour (co_buy, as
``b:<behavior_id>``) or the query (search_buy and ESCI, as ``q:<lower-cased query>``) that the
split keeps together.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any, Iterable

from intentkg.distill.tasks import NO, YES, behavior_text, numbered

Row = dict[str, Any]


def query_group(query: str) -> str:
    return "q:" + " ".join((query or "").lower().split())


def behavior_group(behavior: Row) -> str:
    return query_group(behavior["left"]) if behavior["kind"] == "search_buy" else f"b:{behavior['behavior_id']}"


def generation(kept: Iterable[Row], behaviors: dict[str, Row], max_tails: int) -> list[Row]:
    """(behaviour, relation) -> its kept tails, most plausible first, distinct (case-insensitive)."""
    by_pair: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in kept:
        if row["behavior_id"] in behaviors:
            by_pair[(row["behavior_id"], row["relation"])].append(row)
    out = []
    for (behavior_id, relation), rows in sorted(by_pair.items()):
        rows.sort(key=lambda r: (-(r["plausibility"] if r["plausibility"] is not None else -1), r["candidate_id"]))
        tails, seen, ids = [], set(), []
        for r in rows:
            key = " ".join(r["tail"].lower().split())
            if key not in seen and len(tails) < max_tails:
                seen.add(key)
                tails.append(" ".join(r["tail"].split()))
            ids.append(r["candidate_id"])
        b = behaviors[behavior_id]
        out.append({"task": "generation", "key": f"{behavior_id}|{relation}", "behavior": b, "relation": relation,
                    "completion": numbered(tails), "label": None, "group": behavior_group(b), "behavior_id": behavior_id,
                    "source_stage": "filter", "source_ids": sorted(ids), "label_source": "teacher_kept",
                    "label_detail": f"{len(tails)} tails"})
    return out


def judgements(task: str, human: list[Row], scored: list[Row], threshold: float | None,
               candidates: dict[str, Row], behaviors: dict[str, Row]) -> list[Row]:
    """plausibility/typicality instances: human labels where they exist, else the critic's score against
    ``threshold`` (None: no critic labels)."""
    out, labelled = [], set()
    for label in human:
        value = label.get(task)
        if value is None or not (label.get("tail") or "").strip():
            continue
        cand = candidates.get(label["candidate_id"])
        behavior = behaviors.get(cand["behavior_id"]) if cand else None
        text = behavior_text(behavior["kind"], behavior["left_text"], behavior["right_text"]) if behavior \
            else " ".join(label["head"].split())
        group = behavior_group(behavior) if behavior else \
            (query_group(label["head"]) if label["kind"] == "search_buy" else "h:" + label["head"].lower())
        labelled.add(label["candidate_id"])
        out.append(_judgement(task, label, text, bool(value), group, behavior, "annotate", "human",
                              label.get("status")))
    if threshold is not None:
        for score in scored:
            value = score.get(task)
            cand = candidates.get(score["candidate_id"])
            if value is None or cand is None or score["candidate_id"] in labelled:
                continue
            behavior = behaviors.get(cand["behavior_id"])
            if behavior is None or cand.get("parse_status") != "ok" or not (cand.get("tail") or "").strip():
                continue
            text = behavior_text(behavior["kind"], behavior["left_text"], behavior["right_text"])
            out.append(_judgement(task, cand, text, value >= threshold, behavior_group(behavior), behavior,
                                  "filter", "critic", f"{value:.3f} vs {threshold:.3f}"))
    return out


def _judgement(task: str, row: Row, text: str, value: bool, group: str, behavior: Row | None, stage: str,
               source: str, detail: str | None) -> Row:
    return {"task": task, "key": row["candidate_id"], "behavior_text": text, "kind": row["kind"],
            "relation": row["relation"], "tail": row["tail"], "completion": YES if value else NO, "label": value,
            "group": group, "behavior_id": behavior["behavior_id"] if behavior else None, "source_stage": stage,
            "source_ids": [row["candidate_id"]], "label_source": source, "label_detail": detail}


def _pair(task: str, key: str, a: str, b: str, value: bool, group: str, behavior_id: str | None, stage: str,
          ids: list[str], source: str, detail: str | None = None) -> Row:
    return {"task": task, "key": key, "a": a, "b": b, "completion": YES if value else NO, "label": value,
            "group": group, "behavior_id": behavior_id, "relation": None, "source_stage": stage, "source_ids": ids,
            "label_source": source, "label_detail": detail}


def search_relevance(behaviors: list[Row], products: dict[str, str], negatives: int, rng: random.Random,
                     esci: list[Row] = ()) -> list[Row]:
    """Bought-after-search pairs (yes), catalogue products never bought for the query (no), ESCI labels."""
    bought: dict[str, set[str]] = defaultdict(set)
    for b in behaviors:
        bought[query_group(b["left"])].add(b["right"])
    catalogue = sorted(products)
    out = []
    for b in sorted(behaviors, key=lambda r: r["behavior_id"]):
        group = query_group(b["left"])
        out.append(_pair("search_relevance", b["behavior_id"], b["left"], b["right_text"], True, group,
                         b["behavior_id"], "ingest", [b["behavior_id"]], "search_buy"))
        for pid in _draw(catalogue, bought[group], negatives, rng):
            out.append(_pair("search_relevance", f"{b['behavior_id']}|neg|{pid}", b["left"], products[pid], False,
                             group, b["behavior_id"], "ingest", [b["behavior_id"], pid], "sampled_negative"))
    for e in esci:
        out.append(_pair("search_relevance", f"esci|{e['example_id']}", e["query"], e["title"], e["label"] in "ES",
                         query_group(e["query"]), None, "esci", [str(e["example_id"])], "esci", e["label"]))
    return out


def co_purchase(behaviors: list[Row], products: dict[str, str], negatives: int, rng: random.Random) -> list[Row]:
    """Pairs bought together (yes) and the left product with one never bought with it (no)."""
    partners: dict[str, set[str]] = defaultdict(set)
    for b in behaviors:
        partners[b["left"]].update((b["right"], b["left"]))
        partners[b["right"]].update((b["left"], b["right"]))
    catalogue = sorted(products)
    out = []
    for b in sorted(behaviors, key=lambda r: r["behavior_id"]):
        group = behavior_group(b)
        out.append(_pair("co_purchase", b["behavior_id"], b["left_text"], b["right_text"], True, group,
                         b["behavior_id"], "ingest", [b["behavior_id"]], "co_buy"))
        for pid in _draw(catalogue, partners[b["left"]], negatives, rng):
            out.append(_pair("co_purchase", f"{b['behavior_id']}|neg|{pid}", b["left_text"], products[pid], False,
                             group, b["behavior_id"], "ingest", [b["behavior_id"], pid], "sampled_negative"))
    return out


def _draw(catalogue: list[str], exclude: set[str], k: int, rng: random.Random) -> list[str]:
    """Up to ``k`` distinct products not in ``exclude`` (a few tries, so a tiny catalogue cannot loop)."""
    picked: list[str] = []
    for _ in range(8 * k):
        if len(picked) == k or not catalogue:
            break
        pid = catalogue[rng.randrange(len(catalogue))]
        if pid not in exclude and pid not in picked:
            picked.append(pid)
    return picked
