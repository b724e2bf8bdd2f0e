"""Generic tables with a column mapping, in Parquet and JSONL."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from intentkg.errors import InputError
from intentkg.ingest.config import TableSource
from intentkg.ingest.pii import Scrubber
from intentkg.ingest.quarantine import Quarantine
from intentkg.ingest.sources import table


def test_parquet_search_log_with_mapping(tmp_path):
    path = tmp_path / "search.parquet"
    pq.write_table(pa.table({"q": ["Tent for 2", "email me a@b.co"], "asin": ["P1", "P2"],
                             "orders": [3, 1], "clicks": [10, 4], "views": [100, 50]}), path)
    source = TableSource(role="search_log", path=path,
                         columns={"query": "q", "product_id": "asin", "purchases": "orders", "impressions": "views"})
    tables = table.read(source, Quarantine(), Scrubber())
    rows = tables.behaviors.to_pylist()
    assert [(r["left"], r["query_text"], r["support"], r["clicks"], r["impressions"]) for r in rows] == [
        ("tent for 2", "Tent for 2", 3, 10, 100), ("email me [email]", "email me [EMAIL]", 1, 4, 50)]


def test_jsonl_co_buy_with_wrong_types(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"a": "P1", "b": "P2", "n": 4}, {"a": "P1", "b": "P3", "n": "many"}, {"a": "P2", "b": "P3"}]) + "\n")
    quarantine = Quarantine()
    source = TableSource(role="co_buy", path=path,
                         columns={"left_product_id": "a", "right_product_id": "b", "support": "n"})
    rows = table.read(source, quarantine, Scrubber()).behaviors.to_pylist()
    assert [(r["left"], r["right"], r["support"]) for r in rows] == [("P1", "P2", 4)]
    assert sorted((q["reason"], q["source_row"]) for q in quarantine.table().to_pylist()) == [
        ("wrong_type", 2), ("wrong_type", 3)]


def test_unknown_extension_says_what_to_do(tmp_path):
    path = tmp_path / "pairs.xlsx"
    path.write_text("x")
    with pytest.raises(InputError, match="format"):
        table.read(TableSource(role="co_buy", path=path), Quarantine(), Scrubber())


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        table.read(TableSource(role="products", path=tmp_path / "nope.csv"), Quarantine(), Scrubber())
