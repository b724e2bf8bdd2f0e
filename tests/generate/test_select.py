from __future__ import annotations

import pyarrow as pa

from intentkg.generate.config import SelectionSettings
from intentkg.generate.select import select_behaviors


def _behaviors() -> pa.Table:
    rows = []
    for i in range(60):
        kind = "co_buy" if i % 3 else "search_buy"
        rows.append({"behavior_id": f"b{i:02d}", "kind": kind, "category": ["toys", "garden", "baby", None][i % 4]})
    return pa.Table.from_pylist(rows)


def test_limit_balances_kinds_and_categories_and_is_seeded():
    table = _behaviors()
    picked = select_behaviors(table, SelectionSettings(limit=8))
    kinds = picked.column("kind").to_pylist()
    assert kinds.count("co_buy") == 4 and kinds.count("search_buy") == 4
    co_buy_categories = [c for k, c in zip(kinds, picked.column("category").to_pylist()) if k == "co_buy"]
    assert len(set(co_buy_categories)) == 4
    assert picked.equals(select_behaviors(table, SelectionSettings(limit=8)))
    assert not picked.equals(select_behaviors(table, SelectionSettings(limit=8, seed=1)))


def test_a_larger_limit_extends_a_smaller_one():
    table = _behaviors()
    small = select_behaviors(table, SelectionSettings(limit=5)).column("behavior_id").to_pylist()
    large = select_behaviors(table, SelectionSettings(limit=20)).column("behavior_id").to_pylist()
    assert large[:5] == small


def test_filters_and_no_limit_keep_input_order():
    table = _behaviors()
    assert select_behaviors(table, SelectionSettings()).equals(table)
    only = select_behaviors(table, SelectionSettings(kinds=["search_buy"], categories=["toys"]))
    assert set(only.column("kind").to_pylist()) == {"search_buy"}
    assert set(only.column("category").to_pylist()) == {"toys"}
