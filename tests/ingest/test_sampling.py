"""Sampling: quotas, hubs, type cross-checks, rates; reproducible and independent of input order."""

from __future__ import annotations

import pyarrow as pa

from intentkg.ingest.config import SamplingConfig
from intentkg.ingest.sampling import sample
from intentkg.schemas import conform


def _behaviors(rows):
    full = []
    for i, r in enumerate(rows):
        full.append({"behavior_id": r.get("id", f"b{i}"), "kind": r.get("kind", "co_buy"), "left": r["left"],
                     "right": r["right"], "left_text": r["left"], "right_text": r["right"],
                     "support": r.get("support", 1), "clicks": r.get("clicks"), "impressions": r.get("impressions"),
                     "category": r.get("category"), "pii_redactions": 0, "source": "t", "source_file": "f",
                     "source_row": i + 1})
    return conform(pa.Table.from_pylist(full), "behaviors")


def _types(mapping):
    ids = list(mapping)
    return pa.table({"product_id": ids, "category": [mapping[i][0] for i in ids],
                     "ptype": [mapping[i][1] for i in ids]})


def test_per_category_quota_keeps_the_most_supported():
    rows = [{"left": f"A{i}", "right": f"B{i}", "support": i + 1, "category": "camping"} for i in range(10)]
    rows += [{"left": f"C{i}", "right": f"D{i}", "support": 1, "category": "baby"} for i in range(3)]
    kept, drops = sample(_behaviors(rows), _types({}), SamplingConfig(per_category_quota=4))
    camping = [r["support"] for r in kept.to_pylist() if r["category"] == "camping"]
    assert camping == [10, 9, 8, 7]
    assert sum(1 for r in kept.to_pylist() if r["category"] == "baby") == 3
    assert {d["reason"] for d in drops.to_pylist()} == {"over_category_quota"}
    assert kept.num_rows + drops.num_rows == 13


def test_sampling_is_seeded_and_ignores_input_order():
    rows = [{"id": f"id{i:03d}", "left": f"A{i}", "right": f"B{i}", "category": "x"} for i in range(50)]
    config = SamplingConfig(per_category_quota=10, seed=7)
    first = sample(_behaviors(rows), _types({}), config)[0].column("behavior_id").to_pylist()
    again = sample(_behaviors(list(reversed(rows))), _types({}), config)[0].column("behavior_id").to_pylist()
    other = sample(_behaviors(rows), _types({}), SamplingConfig(per_category_quota=10, seed=8))[0]
    assert first == again
    assert first != other.column("behavior_id").to_pylist()


def test_hub_products_are_removed():
    types = {"HUB": ("grocery", "milk")}
    rows = []
    for i, category in enumerate(["a", "b", "c", "d"]):
        types[f"P{i}"] = (category, f"type{i}")
        rows.append({"left": "HUB", "right": f"P{i}", "category": category})
    types["Q"] = ("a", "typeq")
    rows.append({"left": "P0", "right": "Q", "category": "a"})
    kept, drops = sample(_behaviors(rows), _types(types), SamplingConfig(max_hub_categories=3))
    assert [(r["left"], r["right"]) for r in kept.to_pylist()] == [("P0", "Q")]
    assert [d["reason"] for d in drops.to_pylist()] == ["hub_product"] * 4


def test_rare_type_pairs_are_dropped_as_random():
    types = {"T1": ("c", "tent"), "T2": ("c", "tent"), "S1": ("c", "sleeping bag"), "S2": ("c", "sleeping bag"),
             "K": ("k", "ketchup")}
    rows = [{"left": "T1", "right": "S1"}, {"left": "T2", "right": "S2"}, {"left": "T1", "right": "K"}]
    kept, drops = sample(_behaviors(rows), _types(types), SamplingConfig(min_type_pair_support=2))
    assert kept.num_rows == 2
    assert [(d["left"], d["right"], d["reason"]) for d in drops.to_pylist()] == [("T1", "K", "rare_type_pair")]


def test_rates_and_support():
    rows = [
        {"kind": "search_buy", "left": "tent", "right": "P1", "support": 5, "clicks": 10, "impressions": 100},
        {"kind": "search_buy", "left": "tent", "right": "P2", "support": 1, "clicks": 50, "impressions": 100},
        {"kind": "search_buy", "left": "tent", "right": "P3", "support": 5, "clicks": 5, "impressions": 10_000},
        {"kind": "search_buy", "left": "lamp", "right": "P4", "support": 0},
    ]
    kept, drops = sample(_behaviors(rows), _types({}), SamplingConfig(min_purchase_rate=0.1, min_click_rate=0.01))
    assert [r["right"] for r in kept.to_pylist()] == ["P1"]
    assert {(d["right"], d["reason"]) for d in drops.to_pylist()} == {
        ("P2", "low_purchase_rate"), ("P3", "low_click_rate"), ("P4", "below_min_support")}


def test_broad_queries_are_up_weighted():
    rows = [{"kind": "search_buy", "left": "camping", "right": f"P{i}", "support": 2} for i in range(5)]
    rows.append({"kind": "search_buy", "left": "coleman 4 person tent", "right": "Q", "support": 2})
    kept, _ = sample(_behaviors(rows), _types({}), SamplingConfig(max_behaviors=5, broad_query_weight=1.0))
    assert set(kept.column("left").to_pylist()) == {"camping"}
