"""Generic tails: many heads across many product types; a popular but specific tail is not generic."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from helpers.filter_rows import rows_from_titles as _rows_from_titles

from intentkg.filter.config import GenericConfig
from intentkg.filter.generic_tails import find_generic_tails


def test_spread_not_popularity_makes_a_tail_generic(tmp_path):
    rows = []
    for i in range(40):  # "everyday use" on 40 heads over 8 types
        rows.append(("everyday use", f"e{i}", f"type {i % 8}"))
    for i in range(40):  # "winter camping" on 40 heads, all tents or sleeping bags
        rows.append(("winter camping", f"w{i}", "tent" if i % 2 else "sleeping bag"))
    for i in range(3):
        rows.append(("rare tail", f"head {i}", f"type {i}"))
    path = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"key": [r[0] for r in rows], "head_key": [r[1] for r in rows],
                             "grp": [r[2] for r in rows]}), path)
    found = find_generic_tails(duckdb.connect(), path, GenericConfig(min_heads=20, min_groups=4, min_entropy_bits=2.0))
    assert list(found) == ["everyday use"]
    assert found["everyday use"].heads == 40 and found["everyday use"].groups == 8
    assert abs(found["everyday use"].entropy_bits - 3.0) < 1e-9
    assert "40 different heads" in found["everyday use"].detail()
    assert find_generic_tails(duckdb.connect(), path, GenericConfig(enabled=False)) == {}
    share = GenericConfig(min_heads=2, min_head_share=0.9, min_groups=2, min_entropy_bits=0.5)
    assert find_generic_tails(duckdb.connect(), path, share) == {}


# Real ESCI-style titles (no product types in the catalogue), unrelated to each other.
UNRELATED = ["Leather Dog Collar for Large Dogs", "Kitchen Knife Set 15 Pieces", "Men's Memory Foam Slippers",
             "Reversible Leather Belt for Men", "Wireless Earbuds with Charging Case", "Cast Iron Skillet 10 Inch",
             "Kids Rain Boots, Yellow", "Stainless Steel Water Bottle 32 oz", "LED Desk Lamp with USB Port",
             "Yoga Mat Non Slip 6 mm", "Ceramic Coffee Mug Set of 4", "Car Phone Mount Dashboard"]
CAMPING = ["Camping Tent for 4 People", "Camp Stove Propane", "Camping Lantern LED", "Camping Chair Folding",
           "Camping Sleeping Bag 20F", "Camping Cot Portable", "Camping Tent 2 Person", "Camping Stove Butane"]


def test_one_tail_on_a_few_unrelated_products_without_types_is_generic(tmp_path):
    rows = [("a birthday party", t) for t in UNRELATED[:8]] + [("camping trips", t) for t in CAMPING]
    rows += [("walking the dog", UNRELATED[0]), ("cooking dinner", UNRELATED[5])]
    con, path = _rows_from_titles(tmp_path, rows)
    found = find_generic_tails(con, path, GenericConfig())
    assert list(found) == ["birthday party"]  # not "camping trips": every camping title names it
    assert found["birthday party"].heads == 8 and found["birthday party"].groups == 8
    assert "0 of them name it" in found["birthday party"].detail()
    # the old defaults (20 heads, no title types) find nothing at this scale
    assert find_generic_tails(con, path, GenericConfig(min_heads=20)) == {}


def test_generic_tails_on_query_only_knowledge(tmp_path):
    """Fails on the old code: query-only behaviours (on-demand knowledge) have no product title, every row
    fell in one product-type group and no tail could be generic; the type now comes from the query."""
    queries = [t.lower() for t in UNRELATED[:8]]
    rows = [("a birthday party", q) for q in queries] + [("walking the dog", queries[0])]
    con, path = _rows_from_titles(tmp_path, rows, query_only=True)
    found = find_generic_tails(con, path, GenericConfig())
    assert list(found) == ["birthday party"] and found["birthday party"].groups == 8
