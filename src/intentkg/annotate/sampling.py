"""Which candidates people annotate: a stratified, weighted sample, or an active-learning round.

Strata are category x relation x behaviour kind; every stratum gets an equal share of the sample
(a share a small stratum cannot fill passes to the others), as COSMO balanced categories and
product types. Inside a stratum, candidates are drawn without replacement with weight

    popularity ** popularity_power  *  knowledge_frequency ** frequency_power

where popularity is how often the behaviour's query or products were bought (summed ``support``)
and knowledge frequency is how many behaviours produced the same (relation, tail). At most
``max_per_tail`` items share one tail, pushing the sample towards diverse knowledge.

Once a critic exists, ``uncertainty`` rounds pick, per stratum, the candidates whose critic
probabilities are closest to 0.5 (largest ``1 - |2p - 1|`` over plausibility and typicality).

The sample order interleaves strata, so the first ``pilot`` items (the pilot batch) cover every
stratum; a seeded ``audit_fraction`` of items is flagged for a blind third answer (the audit).
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

STRATEGIES = ("stratified", "uncertainty")


@dataclass
class SampleConfig:
    n: int = 500
    pilot: int = 50
    audit_fraction: float = 0.05
    seed: int = 0
    strategy: str = "stratified"
    popularity_power: float = 0.5
    frequency_power: float = 0.5
    max_per_tail: int = 3
    skip_flagged: bool = True  # leave out candidates the filter's rules flagged or folded as duplicates
    exclude: list[str] = field(default_factory=list)  # candidate ids already in the store

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["exclude"] = len(self.exclude)  # the ids themselves are an input, fingerprinted separately
        return data


def normalize_tail(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", (text or "").lower())).strip()


def prepare(candidates: list[dict], behaviors: list[dict], flagged: set[str] | None = None,
            uncertainty: dict[str, float] | None = None, exclude: set[str] | None = None) -> list[dict]:
    """Join candidates with their behaviours; add stratum, popularity, frequency (and uncertainty)."""
    by_id = {b["behavior_id"]: b for b in behaviors}
    left_pop: Counter = Counter()
    right_pop: Counter = Counter()
    for b in behaviors:
        left_pop[(b["kind"], b["left"])] += b.get("support") or 1
        right_pop[b["right"]] += b.get("support") or 1
        if b["kind"] == "co_buy":
            right_pop[b["left"]] += b.get("support") or 1
    usable = [c for c in candidates if c.get("tail") and c.get("parse_status", "ok") == "ok"
              and not (flagged and c["candidate_id"] in flagged) and not (exclude and c["candidate_id"] in exclude)]
    behaviours_per_tail: dict[tuple, set] = defaultdict(set)
    for c in usable:
        behaviours_per_tail[(c["relation"], normalize_tail(c["tail"]))].add(c["behavior_id"])
    rows = []
    for c in usable:
        b = by_id.get(c["behavior_id"], {})
        kind = c.get("kind") or b.get("kind") or "unknown"
        if kind == "co_buy":
            popularity = (right_pop[b.get("left")] + right_pop[b.get("right")]) / 2 if b else 1
            product_ids = [b.get("left"), b.get("right")] if b else []
        else:
            popularity = (left_pop[(kind, b.get("left"))] + right_pop[b.get("right")]) / 2 if b else 1
            product_ids = [b.get("right")] if b else []
        category = b.get("category") or "unknown"
        row = {
            "candidate_id": c["candidate_id"], "behavior_id": c["behavior_id"], "kind": kind,
            "head": c.get("head") or "", "relation": c["relation"], "tail": c["tail"], "category": category,
            "left_text": b.get("left_text"), "right_text": b.get("right_text"),
            "product_ids": [p for p in product_ids if p],
            "stratum": f"{category}|{c['relation']}|{kind}",
            "popularity": float(max(popularity, 1)),
            "frequency": len(behaviours_per_tail[(c["relation"], normalize_tail(c["tail"]))]),
        }
        if uncertainty is not None:
            row["uncertainty"] = uncertainty.get(c["candidate_id"])
        rows.append(row)
    return rows


def allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Equal shares per stratum; what a small stratum cannot use goes to the others (water-filling)."""
    share = {k: 0 for k in sizes}
    left = min(n, sum(sizes.values()))
    open_ = sorted(k for k, v in sizes.items() if v > 0)
    while left > 0 and open_:
        each = max(left // len(open_), 1)
        for k in list(open_):
            take = min(each, sizes[k] - share[k], left)
            share[k] += take
            left -= take
            if share[k] >= sizes[k]:
                open_.remove(k)
            if left == 0:
                break
    return share


def _weight(row: dict, config: SampleConfig) -> float:
    return (row["popularity"] ** config.popularity_power) * (row["frequency"] ** config.frequency_power)


def sample(rows: list[dict], config: SampleConfig) -> list[dict]:
    """Pick ``config.n`` rows; returns them in serving order with batch, weight and audit set."""
    if config.strategy not in STRATEGIES:
        raise ValueError(f"strategy {config.strategy!r}: use one of {', '.join(STRATEGIES)}")
    rng = random.Random(config.seed)
    strata: dict[str, list[dict]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r["candidate_id"]):
        row = dict(row, weight=_weight(row, config))
        # Efraimidis-Spirakis key: sorting by u ** (1 / w) draws without replacement proportional to w.
        row["_key"] = rng.random() ** (1.0 / max(row["weight"], 1e-9))
        if config.strategy == "uncertainty":
            if row.get("uncertainty") is None:
                continue
            row["_key"] = (row["uncertainty"], row["_key"])
        strata[row["stratum"]].append(row)
    for members in strata.values():
        members.sort(key=lambda r: r["_key"], reverse=True)
        per_tail: Counter = Counter()
        kept = []
        for r in members:
            tail = normalize_tail(r["tail"])
            if per_tail[tail] < config.max_per_tail:
                per_tail[tail] += 1
                kept.append(r)
        members[:] = kept
    shares = allocate({k: len(v) for k, v in strata.items()}, config.n)
    picked = {k: strata[k][: shares[k]] for k in sorted(strata)}
    ordered: list[dict] = []
    depth = 0
    while len(ordered) < sum(shares.values()):  # round-robin over strata: the pilot covers them all
        for k in sorted(picked):
            if depth < len(picked[k]):
                ordered.append(picked[k][depth])
        depth += 1
    n_audit = int(math.ceil(config.audit_fraction * len(ordered))) if config.audit_fraction > 0 else 0
    audit_ids = set(rng.sample([r["candidate_id"] for r in ordered], min(n_audit, len(ordered))))
    main = "active" if config.strategy == "uncertainty" else "main"
    for rank, row in enumerate(ordered):
        row.pop("_key", None)
        row["rank"] = rank
        row["batch"] = "pilot" if rank < config.pilot else main
        row["audit"] = row["candidate_id"] in audit_ids
    return ordered


def uncertainty_of(plausibility: float | None, typicality: float | None) -> float | None:
    """1 at p = 0.5, 0 at p in {0, 1}; the larger of the two critics' uncertainties."""
    values = [1.0 - abs(2.0 * p - 1.0) for p in (plausibility, typicality) if p is not None and p == p]
    return max(values) if values else None
