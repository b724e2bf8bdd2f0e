"""ESCI ingest on the real 199-row sample in the public parquet schema, plus bad-input cases."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from intentkg.errors import InputError
from intentkg.ingest import IngestConfig, run_ingest
from intentkg.ingest.config import EsciSource
from intentkg.ingest.pii import Scrubber
from intentkg.ingest.quarantine import Quarantine
from intentkg.ingest.sources import esci


def test_real_sample_exact_becomes_search_buy(shared_data, tmp_path):
    path = shared_data / "esci-sample"
    examples = pq.read_table(path / esci.EXAMPLES_FILE).to_pylist()
    exact_train = [e for e in examples if e["esci_label"] == "E" and e["split"] == "train"]
    quarantine = Quarantine()
    tables = esci.read(EsciSource(path=path), quarantine, Scrubber())
    assert len(quarantine) == 0
    assert tables.behaviors.num_rows == len(exact_train)
    assert set(tables.behaviors.column("kind").to_pylist()) == {"search_buy"}
    assert set(tables.behaviors.column("right").to_pylist()) <= set(tables.products.column("product_id").to_pylist())
    product = tables.products.to_pylist()[0]
    assert product["title"] and product["source"] == "esci" and product["source_row"] >= 1


def test_real_sample_with_substitutes_and_all_splits(shared_data, tmp_path):
    manifest = run_ingest(IngestConfig(sources=[EsciSource(path=shared_data / "esci-sample", labels=["E", "S"],
                                                           splits=None)]), tmp_path / "ws")
    labels = pq.read_table(shared_data / "esci-sample" / esci.EXAMPLES_FILE).column("esci_label").to_pylist()
    assert manifest.counts["sources"][0]["examples_as_search_buy"] == labels.count("E") + labels.count("S")
    behaviors = pq.read_table(tmp_path / "ws" / "ingest" / "behaviors.parquet").to_pylist()
    # each behaviour's right product keeps its ESCI title
    assert all(b["right_text"] for b in behaviors)
    assert all(b["left_text"] == b["left"] or b["left_text"].lower() == b["left"] for b in behaviors)


def _write_esci(tmp_path, examples: dict, products: dict):
    pq.write_table(pa.table(examples), tmp_path / esci.EXAMPLES_FILE)
    pq.write_table(pa.table(products), tmp_path / esci.PRODUCTS_FILE)


def test_renamed_column_is_a_clear_error(tmp_path):
    _write_esci(tmp_path, {"query": ["tent"], "asin": ["B1"], "esci_label": ["E"]},
                {"product_id": ["B1"], "product_title": ["Tent"]})
    with pytest.raises(InputError) as err:
        esci.read(EsciSource(path=tmp_path, splits=None), Quarantine(), Scrubber())
    assert esci.EXAMPLES_FILE in str(err.value) and "'product_id'" in str(err.value)


def test_bad_labels_empty_queries_and_dangling_products(tmp_path):
    _write_esci(tmp_path,
                {"query": ["tent", "", "lantern", "stove"], "product_id": ["B1", "B1", "B2", "B404"],
                 "esci_label": ["E", "E", "X", "E"]},
                {"product_id": ["B1", "B2"], "product_title": ["Dome Tent", "LED Lantern"]})
    manifest = run_ingest(IngestConfig(sources=[EsciSource(path=tmp_path, splits=None)]), tmp_path / "ws")
    quarantine = pq.read_table(tmp_path / "ws" / "ingest" / "quarantine.parquet").to_pylist()
    assert {(q["reason"], q["source_row"]) for q in quarantine} == {
        ("empty_query", 2), ("bad_label", 3), ("dangling_product", 4)}
    assert manifest.counts["behaviors_kept"] == 1
