"""Instacart-layout order logs on the real 1,000-order sample, plus bad-input cases."""

from __future__ import annotations

import shutil

import pyarrow.parquet as pq

from intentkg.ingest import IngestConfig, run_ingest
from intentkg.ingest.config import InstacartSource
from intentkg.ingest.pii import Scrubber
from intentkg.ingest.quarantine import Quarantine
from intentkg.ingest.sources import instacart


def test_real_sample_pairs_have_order_support(shared_data):
    source = InstacartSource(path=shared_data / "instacart-sample", order_files=["order_products__train.csv"])
    tables = instacart.read(source, Quarantine(), Scrubber())
    # recount one pair by hand from the raw CSV
    import csv
    orders: dict[str, set[str]] = {}
    with open(shared_data / "instacart-sample" / "order_products__train.csv") as handle:
        for row in csv.DictReader(handle):
            orders.setdefault(row["order_id"], set()).add(row["product_id"])
    pairs = tables.behaviors.to_pylist()
    expected = sum(len(items) * (len(items) - 1) // 2 for items in orders.values() if len(items) <= 60)
    assert len(pairs) <= expected
    top = max(pairs, key=lambda p: p["support"])
    assert top["support"] == sum(1 for items in orders.values() if {top["left"], top["right"]} <= items)
    products = {p["product_id"]: p for p in tables.products.to_pylist()}
    assert products["24852"]["title"] == "Banana"
    assert products["24852"]["category"] == "produce" and products["24852"]["product_type"] == "fresh fruits"


def test_real_sample_full_ingest_with_hub_removal(shared_data, tmp_path):
    config = IngestConfig(sources=[InstacartSource(path=shared_data / "instacart-sample")])
    config.sampling.max_hub_categories = 8
    manifest = run_ingest(config, tmp_path / "ws")
    assert manifest.counts["behaviors_by_kind"]["co_buy"] > 100
    assert manifest.counts["sampled_out_by_reason"].get("hub_product", 0) > 0
    behaviors = pq.read_table(tmp_path / "ws" / "ingest" / "behaviors.parquet").to_pylist()
    assert all(b["left"] < b["right"] and b["left_text"] and b["right_text"] for b in behaviors)


def test_dangling_and_non_numeric_lines_are_quarantined(shared_data, tmp_path):
    folder = tmp_path / "orders"
    folder.mkdir()
    for name in ("products.csv", "aisles.csv", "departments.csv"):
        shutil.copy(shared_data / "instacart-sample" / name, folder / name)
    (folder / "order_products__train.csv").write_text(
        "order_id,product_id,add_to_cart_order,reordered\n1,24852,1,0\n1,13176,2,0\n1,99999999,3,0\n,24852,4,0\n")
    quarantine = Quarantine()
    tables = instacart.read(InstacartSource(path=folder), quarantine, Scrubber())
    assert quarantine.by_reason == {"dangling_product": 1, "empty_order_id": 1}
    assert [(b["left"], b["right"], b["support"]) for b in tables.behaviors.to_pylist()] == [("13176", "24852", 1)]


def test_a_stray_quote_in_order_lines_costs_one_line(shared_data, tmp_path):
    """Old code: everything after the quote became one malformed_row; its order lines were lost."""
    folder = tmp_path / "orders"
    folder.mkdir()
    for name in ("products.csv", "aisles.csv", "departments.csv"):
        shutil.copy(shared_data / "instacart-sample" / name, folder / name)
    lines = ["order_id,product_id,add_to_cart_order,reordered"]
    for order in range(1, 401):
        lines += [f"{order},24852,1,0", f"{order},13176,2,0"]
    lines[3] = '"2,24852,1,0'  # file line 4
    (folder / "order_products__train.csv").write_text("\n".join(lines) + "\n")
    quarantine = Quarantine()
    tables = instacart.read(InstacartSource(path=folder, order_files=["order_products__train.csv"]), quarantine,
                            Scrubber())
    assert [(q["source_row"], q["reason"]) for q in quarantine.table().to_pylist()] == [(4, "unbalanced_quote")]
    assert tables.counts["order_lines"] == 799
    assert [(b["left"], b["right"], b["support"]) for b in tables.behaviors.to_pylist()] == [("13176", "24852", 399)]
    ledger = quarantine.files[str(folder / "order_products__train.csv")]
    assert ledger["lines"] == 801 and ledger["records"] == 800 and ledger["rows"] == 799
