"""Sampling: balanced strata, popularity and frequency weights, diversity cap, pilot, audit, uncertainty."""

from __future__ import annotations

from collections import Counter

import pyarrow.parquet as pq
import pytest

from intentkg.annotate.sampling import SampleConfig, allocate, prepare, sample, uncertainty_of
from intentkg.annotate.stage import run_sample
from intentkg.annotate.store import Store
from intentkg.errors import IntentkgError


def _rows(n_per: dict[str, int], popular: set[str] = frozenset()) -> list[dict]:
    rows = []
    for stratum, n in n_per.items():
        for i in range(n):
            cid = f"{stratum}-{i:03d}"
            rows.append({"candidate_id": cid, "stratum": stratum, "tail": f"tail {stratum} {i}",
                         "popularity": 1000.0 if cid in popular else 1.0, "frequency": 1})
    return rows


def test_allocate_is_equal_then_water_fills():
    assert allocate({"a": 100, "b": 100, "c": 100}, 30) == {"a": 10, "b": 10, "c": 10}
    assert allocate({"a": 2, "b": 100, "c": 100}, 30) == {"a": 2, "b": 14, "c": 14}
    assert allocate({"a": 2, "b": 3}, 30) == {"a": 2, "b": 3}


def test_strata_balanced_pilot_spread_audit_share_and_seeded():
    rows = _rows({"cat1|used_for|co_buy": 200, "cat2|used_for|co_buy": 20, "cat3|xWant|search_buy": 200})
    config = SampleConfig(n=60, pilot=6, audit_fraction=0.05, seed=3)
    picked = sample(rows, config)
    assert len(picked) == 60
    assert Counter(r["stratum"] for r in picked) == {"cat1|used_for|co_buy": 20, "cat2|used_for|co_buy": 20,
                                                     "cat3|xWant|search_buy": 20}
    pilot = [r for r in picked if r["batch"] == "pilot"]
    assert len(pilot) == 6 and len({r["stratum"] for r in pilot}) == 3  # the pilot covers every stratum
    assert sum(r["audit"] for r in picked) == 3  # 5% of 60
    assert [r["candidate_id"] for r in sample(rows, config)] == [r["candidate_id"] for r in picked]
    assert [r["candidate_id"] for r in sample(rows, SampleConfig(n=60, seed=4))] != [r["candidate_id"] for r in picked]


def test_popular_behaviours_are_favoured_and_tails_capped():
    popular = {f"s-{i:03d}" for i in range(20)}
    rows = _rows({"s": 400}, popular)
    picked = {r["candidate_id"] for r in sample(rows, SampleConfig(n=40, pilot=0, seed=1))}
    assert len(picked & popular) >= 15  # 20 of 400 rows carry nearly all the weight
    same_tail = [dict(r, tail="winter camping") for r in _rows({"s": 50})]
    assert len(sample(same_tail, SampleConfig(n=40, pilot=0, max_per_tail=3))) == 3


def test_uncertainty_rounds_pick_the_critic_s_doubts():
    rows = _rows({"a": 50})
    for i, r in enumerate(rows):
        r["uncertainty"] = uncertainty_of(i / 49, None)
    picked = sample(rows, SampleConfig(n=5, pilot=0, strategy="uncertainty", audit_fraction=0))
    assert all(r["uncertainty"] > 0.85 for r in picked) and {r["batch"] for r in picked} == {"active"}
    assert uncertainty_of(0.5, 0.99) == 1.0 and uncertainty_of(None, None) is None


def test_prepare_joins_behaviours_and_counts_frequency():
    behaviors = [{"behavior_id": "b1", "kind": "co_buy", "left": "p1", "right": "p2", "left_text": "Tent",
                  "right_text": "Pad", "support": 9, "category": "Camping"},
                 {"behavior_id": "b2", "kind": "search_buy", "left": "tent", "right": "p1", "left_text": "tent",
                  "right_text": "Tent", "support": 1, "category": "Camping"}]
    candidates = [{"candidate_id": "c1", "behavior_id": "b1", "kind": "co_buy", "head": "Tent + Pad",
                   "relation": "used_for_event", "tail": "Winter camping!", "parse_status": "ok"},
                  {"candidate_id": "c2", "behavior_id": "b2", "kind": "search_buy", "head": "tent -> Tent",
                   "relation": "used_for_event", "tail": "winter camping", "parse_status": "ok"},
                  {"candidate_id": "c3", "behavior_id": "b2", "kind": "search_buy", "head": "tent -> Tent",
                   "relation": "used_for_event", "tail": None, "parse_status": "empty"}]
    rows = {r["candidate_id"]: r for r in prepare(candidates, behaviors, flagged={"c9"})}
    assert set(rows) == {"c1", "c2"}
    assert rows["c1"]["frequency"] == 2 and rows["c1"]["stratum"] == "Camping|used_for_event|co_buy"
    assert rows["c1"]["product_ids"] == ["p1", "p2"] and rows["c2"]["product_ids"] == ["p1"]
    assert rows["c1"]["popularity"] > rows["c2"]["popularity"]


def test_sample_stage_fills_the_store_and_skips_when_unchanged(tmp_path):
    from intentkg.filter.synthetic import write_synthetic_workspace

    ws = write_synthetic_workspace(tmp_path / "ws", 300, seed=2)
    manifest, added = run_sample(ws, SampleConfig(n=40, pilot=5, seed=0))
    assert added == 40 and manifest.counts["sampled"] == 40 and manifest.counts["pilot"] == 5
    table = pq.read_table(ws.table_path("sample", "annotation_sample"))
    assert table.num_rows == 40 and sorted(table.column("rank").to_pylist()) == list(range(40))
    store = Store.for_workspace(ws.root)
    assert store.count_items() == 40 and {i.batch for i in store.items()} == {"pilot", "main"}
    assert all(i.left_text and i.right_text for i in store.items())
    _, again = run_sample(ws, SampleConfig(n=40, pilot=5, seed=0))
    assert again == 0 and ws.manifest("sample").finished_at == manifest.finished_at  # skipped
    with pytest.raises(IntentkgError, match="critic scores"):
        run_sample(ws, SampleConfig(n=10, strategy="uncertainty"))
