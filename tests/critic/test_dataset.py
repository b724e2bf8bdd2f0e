"""Examples and the grouped split."""

from __future__ import annotations

from intentkg.critic.dataset import assign_splits, build_examples, part
from intentkg.filter.critic import DEFAULT_TEMPLATE, critic_input


def _rows(n_heads=30, per_head=3):
    return [{"candidate_id": f"c{h}-{i}", "head": f"query {h} -> Product {h}", "relation": "used_for_event",
             "tail": f"tail {i}", "plausibility": (h + i) % 2 == 0, "typicality": None if i == 0 else True}
            for h in range(n_heads) for i in range(per_head)]


def test_split_keeps_behaviours_together_and_is_seeded():
    rows = _rows()
    splits = assign_splits(rows, (0.6, 0.2, 0.2), seed=0)
    by_head = {}
    for r in rows:
        by_head.setdefault(r["head"], set()).add(splits[r["candidate_id"]])
    assert all(len(s) == 1 for s in by_head.values())
    counts = {s: sum(v == s for v in splits.values()) for s in ("train", "dev", "test")}
    assert counts == {"train": 54, "dev": 18, "test": 18}
    assert assign_splits(list(reversed(rows)), seed=0) == splits
    assert assign_splits(rows, seed=1) != splits


def test_examples_use_the_filter_s_input_text_and_skip_undetermined():
    rows = _rows(4, 3)
    splits = assign_splits(rows)
    examples, counts = build_examples(rows, "typicality", splits, DEFAULT_TEMPLATE)
    assert len(examples) == 8 and counts["undetermined"] == 4
    first = next(e for e in examples if e.candidate_id == "c0-1")
    assert first.text == "query 0 -> Product 0 | used for event | tail 1" and first.label == 1  # written by hand
    assert first.text == critic_input("query 0 -> Product 0", "used_for_event", "tail 1")  # what the filter scores
    assert sum(len(part(examples, s)) for s in ("train", "dev", "test")) == 8
