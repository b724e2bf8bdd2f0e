"""The ingest stage end to end on small generic files: every bad-input case quarantines, the run goes on,
and every valid row arrives."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from intentkg.errors import InputError
from intentkg.ingest import IngestConfig, SamplingConfig, run_ingest
from intentkg.ingest.config import TableSource

PRODUCTS = (
    "product_id,title,category,product_type\n"
    "P1,Trailblazer 2-Person Dome Tent,Camping,tent\n"
    "P2,Summit Mummy Sleeping Bag 20F,Camping,sleeping bag\n"
    "P3,Cozy Baby Swaddle Blanket 3 Pack,Baby,swaddle\n"
    "P4,Ergo Mesh Office Chair with Lumbar Support,Office,office chair\n"
)


def _write(tmp: Path, name: str, text: str | bytes) -> Path:
    path = tmp / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def _ingest(tmp: Path, products: str | bytes, co_buy: str | bytes | None = None, search: str | bytes | None = None,
            **sampling):
    sources = [TableSource(role="products", path=_write(tmp, "products.csv", products))]
    if co_buy is not None:
        sources.append(TableSource(role="co_buy", path=_write(tmp, "co_buy.csv", co_buy)))
    if search is not None:
        sources.append(TableSource(role="search_log", path=_write(tmp, "search.csv", search)))
    manifest = run_ingest(IngestConfig(sources=sources, sampling=SamplingConfig(**sampling)), tmp / "ws")
    ws = tmp / "ws" / "ingest"
    return manifest, {name: pq.read_table(ws / f"{name}.parquet").to_pylist()
                      for name in ("products", "behaviors", "quarantine", "sampling_drops")}


def _reasons(tables) -> list[tuple[str, int, str]]:
    return [(q["reason"], q["source_row"], q["column"]) for q in tables["quarantine"]]


def test_clean_input_keeps_every_row(tmp_path):
    manifest, t = _ingest(tmp_path, PRODUCTS, "left_product_id,right_product_id,support\nP1,P2,3\n",
                          "query,product_id,purchases,clicks\nwinter camping gear,P2,4,10\n")
    assert len(t["products"]) == 4
    assert {(b["kind"], b["left"], b["right"], b["support"]) for b in t["behaviors"]} == {
        ("co_buy", "P1", "P2", 3), ("search_buy", "winter camping gear", "P2", 4)}
    assert t["quarantine"] == []
    assert manifest.counts["rejected"] == 0
    assert manifest.status == "complete"


def test_missing_column_names_file_column_and_expectation(tmp_path):
    with pytest.raises(InputError) as err:
        _ingest(tmp_path, "product_id,name\nP1,Tent\n")
    message = str(err.value)
    assert "products.csv" in message and "'title'" in message and "name" in message
    assert err.value.column == "title"


def test_renamed_column_works_with_a_mapping(tmp_path):
    path = _write(tmp_path, "catalogue.csv", "sku,name\nP1,Dome Tent\n")
    manifest = run_ingest(IngestConfig(sources=[TableSource(role="products", path=path,
                                                            columns={"product_id": "sku", "title": "name"})]),
                          tmp_path / "ws")
    assert manifest.counts["products"] == 1


def test_empty_title_is_quarantined(tmp_path):
    _, t = _ingest(tmp_path, PRODUCTS + "P5,   ,Camping,tent\nP6,,Camping,tent\n")
    assert ("empty_title", 6, "title") in _reasons(t)
    assert ("empty_title", 7, "title") in _reasons(t)
    assert len(t["products"]) == 4


def test_invalid_utf8_is_quarantined_and_the_rest_survive(tmp_path):
    bad = PRODUCTS.encode() + b"P5,Caf\xe9 Espresso Maker,Kitchen,espresso maker\n"
    _, t = _ingest(tmp_path, bad)
    assert ("bad_utf8", 6, "title") in _reasons(t)
    assert [p["product_id"] for p in t["products"]] == ["P1", "P2", "P3", "P4"]


def test_duplicate_ids_keep_the_first_and_quarantine_the_rest(tmp_path):
    _, t = _ingest(tmp_path, PRODUCTS + "P1,Another Tent With The Same Id,Camping,tent\n")
    assert ("duplicate_id", 6, "product_id") in _reasons(t)
    assert [p["title"] for p in t["products"] if p["product_id"] == "P1"] == ["Trailblazer 2-Person Dome Tent"]


def test_absurdly_long_text_is_quarantined(tmp_path):
    _, t = _ingest(tmp_path, PRODUCTS + "P5," + "tent " * 1000 + ",Camping,tent\n",
                   search="query,product_id\n" + "a" * 600 + ",P1\nsleeping bag,P2\n")
    reasons = _reasons(t)
    assert ("too_long", 6, "title") in reasons
    assert ("too_long", 2, "query") in reasons
    assert [b["left"] for b in t["behaviors"]] == ["sleeping bag"]


def test_wrong_types_are_quarantined(tmp_path):
    _, t = _ingest(tmp_path, PRODUCTS, "left_product_id,right_product_id,support\nP1,P2,three\nP1,P3,2.5\n"
                                       "P3,P4,-1\nP2,P3,2\n")
    reasons = _reasons(t)
    assert [r for r in reasons if r[0] == "wrong_type"] == [("wrong_type", 2, "support"), ("wrong_type", 3, "support"),
                                                            ("wrong_type", 4, "support")]
    assert [(b["left"], b["right"]) for b in t["behaviors"]] == [("P2", "P3")]


def test_dangling_product_ids_are_quarantined(tmp_path):
    _, t = _ingest(tmp_path, PRODUCTS, "left_product_id,right_product_id\nP1,P9\nP1,P2\n",
                   "query,product_id\ngift for dad,P404\n")
    reasons = _reasons(t)
    assert ("dangling_product", 2, "product_id") in reasons
    assert sum(1 for r in reasons if r[0] == "dangling_product") == 2
    assert len(t["behaviors"]) == 1


def test_malformed_csv_line_is_quarantined(tmp_path):
    _, t = _ingest(tmp_path, PRODUCTS + "P5,Tent,Camping,tent,EXTRA,FIELDS\nP6,Lantern,Camping,lantern\n")
    assert ("malformed_row", 6, None) in _reasons(t)
    assert "P6" in [p["product_id"] for p in t["products"]]


def test_co_buy_pairs_merge_across_order_and_self_pairs_are_rejected(tmp_path):
    _, t = _ingest(tmp_path, PRODUCTS, "left_product_id,right_product_id,support\nP2,P1,2\nP1,P2,3\nP3,P3,1\n")
    assert [(b["left"], b["right"], b["support"]) for b in t["behaviors"]] == [("P1", "P2", 5)]
    assert ("self_pair", 4, "product_id") in _reasons(t)


def test_pii_is_scrubbed_before_storage_and_counted(tmp_path):
    manifest, t = _ingest(tmp_path, PRODUCTS, search="query,product_id\ntent for jane@example.com,P1\n")
    assert t["behaviors"][0]["left_text"] == "tent for [EMAIL]"
    assert manifest.counts["pii"]["by_kind"] == {"EMAIL": 1}
    assert "jane@example.com" not in (tmp_path / "ws" / "ingest" / "behaviors.parquet").read_bytes().decode("latin-1")


def test_counts_add_up_nothing_silently_lost(tmp_path):
    manifest, t = _ingest(
        tmp_path, PRODUCTS + "P1,dup,Camping,tent\n",
        "left_product_id,right_product_id,support\nP1,P2,5\nP1,P3,1\nP1,P9,1\n",
        "query,product_id,purchases,clicks\ncamping,P1,5,10\ncamping,P2,3,100\n",
        min_support=2, min_purchase_rate=0.05)
    drops = {d["reason"] for d in t["sampling_drops"]}
    assert drops == {"below_min_support", "low_purchase_rate"}
    behaviour_rows = 5
    assert len(t["behaviors"]) + len(t["sampling_drops"]) + \
        sum(1 for q in t["quarantine"] if q["reason"] == "dangling_product") == behaviour_rows
    assert manifest.counts["rejected"] == len(t["quarantine"]) == 2


def test_unchanged_inputs_skip_and_changes_rerun(tmp_path):
    first, _ = _ingest(tmp_path, PRODUCTS)
    second, _ = _ingest(tmp_path, PRODUCTS)
    assert second.finished_at == first.finished_at
    third, t = _ingest(tmp_path, PRODUCTS + "P5,Camp Lantern 400 Lumen,Camping,lantern\n")
    assert len(t["products"]) == 5
    assert third.fingerprint != first.fingerprint


def test_a_stray_quote_in_a_big_search_log_loses_one_line_and_every_line_is_accounted_for(tmp_path):
    """Old code: 5 rows kept, 1 malformed_row holding the other 19,995, exit 0, wrong source_row numbers."""
    lines = [f"query number {i},P{1 + i % 4},{1 + i % 3}" for i in range(20_001)]
    lines[5] = '"query number 5,P2,1'
    manifest, t = _ingest(tmp_path, PRODUCTS, search="query,product_id,purchases\n" + "\n".join(lines) + "\n",
                          min_support=2)
    quarantined = [q for q in t["quarantine"] if q["source_file"].endswith("search.csv")]
    assert [(q["source_row"], q["reason"]) for q in quarantined] == [(7, "unbalanced_quote")]
    search = [b for b in t["behaviors"] if b["kind"] == "search_buy"]
    drops = [d for d in t["sampling_drops"] if d["kind"] == "search_buy"]
    assert len(search) + len(drops) + len(quarantined) == 20_001
    ledger = manifest.counts["quarantine"]["files"][str(tmp_path / "search.csv")]
    assert ledger["lines"] == 20_002 and ledger["records"] == 20_001 and ledger["rows"] == 20_000
    # source_row is the file line: line 9 of the file is "query number 7"
    assert {b["left"]: b["source_row"] for b in search + []}.get("query number 7", 9) == 9
    by_query = {b["left"]: b["source_row"] for b in search}
    assert by_query["query number 7"] == 9 and by_query["query number 20000"] == 20_002
