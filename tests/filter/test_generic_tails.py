"""Generic tails: many heads across many product types; a popular but specific tail is not generic."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

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
