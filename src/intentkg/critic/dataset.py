"""Training examples from final labels, and a train / dev / test split grouped by behaviour.

One example is one candidate: the text the filter's critic step will see for it
(:func:`intentkg.critic.template.critic_input`) and the final yes/no answer to one question.
Candidates whose answer is still undetermined (a disagreement nobody resolved) are left out and
counted. The split keeps every candidate of one behaviour (head) in the same part, so a critic is
never tested on a behaviour it was trained on; dev picks the calibration and the threshold, test
only measures.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass

SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class Example:
    candidate_id: str
    text: str
    label: int
    group: str
    split: str


def assign_splits(rows: list[dict], fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
                  seed: int = 0) -> dict[str, str]:
    """candidate_id -> train | dev | test, whole heads at a time, seeded and order-independent."""
    groups = sorted({r["head"] for r in rows}, key=lambda h: hashlib.sha256(h.encode()).hexdigest())
    random.Random(seed).shuffle(groups)
    n = len(groups)
    cut1 = round(fractions[0] * n)
    cut2 = cut1 + round(fractions[1] * n)
    split_of = {g: ("train" if i < cut1 else "dev" if i < cut2 else "test") for i, g in enumerate(groups)}
    return {r["candidate_id"]: split_of[r["head"]] for r in rows}


def build_examples(rows: list[dict], task: str, splits: dict[str, str], template: str) -> tuple[list[Example], Counter]:
    """Examples for ``task`` and counts of what was used and left out."""
    from intentkg.critic.template import critic_input

    out, counts = [], Counter()
    for r in rows:
        value = r.get(task)
        if value is None:
            counts["undetermined"] += 1
            continue
        text = critic_input(r["head"], r["relation"], r["tail"], template)
        out.append(Example(r["candidate_id"], text, int(bool(value)), r["head"], splits[r["candidate_id"]]))
        counts[f"{splits[r['candidate_id']]}_{'pos' if value else 'neg'}"] += 1
    return out, counts


def part(examples: list[Example], split: str) -> list[Example]:
    return [e for e in examples if e.split == split]
