"""Out-of-range and odd values: quarantined per row with a reason, or one clear line per file; nothing aborts
the whole ingest and nothing is silently changed (issue 18, item 6)."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from intentkg.errors import InputError
from intentkg.ingest import IngestConfig, run_ingest
from intentkg.ingest.checks import RowChecker
from intentkg.ingest.config import TableSource
from intentkg.ingest.quarantine import Quarantine
from intentkg.ingest.reading import ROW

def _cli(*args):
    env = dict(os.environ, INTENTKG_NO_PROGRESS="1", COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "intentkg.cli.main", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=120)


PRODUCTS = "product_id,title\nP1,Dome Tent\nP2,Sleeping Bag\nP3,Camp Stove\n"


def _checker(values: list) -> RowChecker:
    table = pa.table({"support": pa.array(values), ROW: pa.array(range(1, len(values) + 1), pa.int64())})
    return RowChecker(table, "f.csv", Quarantine())


def test_huge_numbers_are_quarantined_not_an_overflow():
    """Old code: OverflowError from pa.array for 1e30 and a 20-digit count (the whole ingest aborted)."""
    check = _checker(["3", "1e30", "12345678901234567890", "7"])
    check.integer("support", min_value=0)
    assert check.result().column("support").to_pylist() == [3, 7]
    assert [(q["source_row"], q["reason"]) for q in check.quarantine.table().to_pylist()] == [
        (2, "out_of_range"), (3, "out_of_range")]


def test_integers_above_2_pow_53_keep_their_value():
    """Old code parsed text through float(): 9007199254740993 became 9007199254740992."""
    check = _checker(["9007199254740993", "9223372036854775807", "4.0"])
    check.integer("support")
    assert check.result().column("support").to_pylist() == [9007199254740993, 2**63 - 1, 4]


def test_embedded_nul_is_quarantined_and_said_so(tmp_path):
    """Old code stored the NUL inside the title."""
    (tmp_path / "p.csv").write_bytes(b"product_id,title\nP1,Dome\x00Tent\nP2,Sleeping Bag\n")
    run_ingest(IngestConfig(sources=[TableSource(role="products", path=tmp_path / "p.csv")]), tmp_path / "ws")
    quarantine = pq.read_table(tmp_path / "ws" / "ingest" / "quarantine.parquet").to_pylist()
    assert [(q["source_row"], q["reason"], q["column"]) for q in quarantine] == [(2, "nul_character", "title")]
    assert "NUL" in quarantine[0]["detail"]
    products = pq.read_table(tmp_path / "ws" / "ingest" / "products.parquet").column("product_id").to_pylist()
    assert products == ["P2"]


def test_list_typed_parquet_column_does_not_abort(tmp_path):
    """Old code: ArrowNotImplementedError casting list<string> to string."""
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"product_id": ["P1", "P2"], "title": ["Dome Tent", "Stove"],
                             "bullets": [["waterproof", "2 person"], []]}), path)
    run_ingest(IngestConfig(sources=[TableSource(role="products", path=path)]), tmp_path / "ws")
    products = pq.read_table(tmp_path / "ws" / "ingest" / "products.parquet").to_pylist()
    assert [p["bullets"] for p in products] == ['["waterproof", "2 person"]', "[]"]


def test_search_log_counts_out_of_range_row_by_row(tmp_path):
    (tmp_path / "p.csv").write_text(PRODUCTS)
    (tmp_path / "s.csv").write_text("query,product_id,purchases\ntent,P1,3\nstove,P3,1e30\n"
                                    "bag,P2,99999999999999999999\n")
    manifest = run_ingest(IngestConfig(sources=[TableSource(role="products", path=tmp_path / "p.csv"),
                                                TableSource(role="search_log", path=tmp_path / "s.csv")]),
                          tmp_path / "ws")
    assert manifest.counts["quarantine"]["by_reason"] == {"out_of_range": 2}
    assert manifest.counts["behaviors_kept"] == 1


def test_header_only_file_warns_in_manifest_and_cli(tmp_path):
    (tmp_path / "p.csv").write_text(PRODUCTS)
    (tmp_path / "s.csv").write_text("query,product_id\n")
    result = _cli("ingest", "table", tmp_path / "s.csv", "--role", "search_log", "--products", tmp_path / "p.csv",
                  "-w", tmp_path / "ws")
    assert result.returncode == 0, result.stderr
    assert "warning:" in result.stdout and "s.csv: the file has column names but no rows" in result.stdout


def test_map_applies_to_the_products_file_too(tmp_path):
    """Old code passed --map only to the main file: the products file's renamed id column was 'missing'."""
    (tmp_path / "p.csv").write_text("asin,name\nP1,Dome Tent\nP2,Sleeping Bag\n")
    (tmp_path / "s.csv").write_text("search_term,asin\nwinter tent,P1\n")
    result = _cli("ingest", "table", tmp_path / "s.csv", "--role", "search_log", "--products", tmp_path / "p.csv",
                  "--map", "query=search_term", "--map", "product_id=asin", "--map", "title=name",
                  "-w", tmp_path / "ws")
    assert result.returncode == 0, result.stderr
    behaviors = pq.read_table(tmp_path / "ws" / "ingest" / "behaviors.parquet").to_pylist()
    assert [(b["left"], b["right"], b["right_text"]) for b in behaviors] == [("winter tent", "P1", "Dome Tent")]


def test_unknown_map_key_is_an_error(tmp_path):
    """Old code ignored --map qeury=search_term and then reported a missing 'query' column."""
    (tmp_path / "s.csv").write_text("search_term,product_id\nwinter tent,P1\n")
    result = _cli("ingest", "table", tmp_path / "s.csv", "--role", "search_log", "--map", "qeury=search_term",
                  "-w", tmp_path / "ws")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--map qeury: not a column of a search_log table" in result.stderr
    with pytest.raises(ValueError, match="'qeury' is not a column of a search_log table"):
        TableSource(role="search_log", path=tmp_path / "s.csv", columns={"qeury": "search_term"})


def test_parquet_that_is_not_parquet_is_one_clear_line(tmp_path):
    path = tmp_path / "p.parquet"
    path.write_bytes(b"PAR1 truncated")
    with pytest.raises(InputError, match="p.parquet.*not a readable Parquet file"):
        run_ingest(IngestConfig(sources=[TableSource(role="products", path=path)]), tmp_path / "ws")


def test_pair_counts_that_add_up_beyond_int64_are_quarantined(tmp_path):
    """Old code: a raw DuckDB ConversionException when merging the pair's support aborted the ingest."""
    (tmp_path / "p.csv").write_text(PRODUCTS)
    (tmp_path / "c.csv").write_text("left_product_id,right_product_id,support\nP1,P2,9223372036854775000\n"
                                    "P2,P1,9223372036854775000\nP1,P3,4\n")
    manifest = run_ingest(IngestConfig(sources=[TableSource(role="products", path=tmp_path / "p.csv"),
                                                TableSource(role="co_buy", path=tmp_path / "c.csv")]),
                          tmp_path / "ws")
    quarantine = pq.read_table(tmp_path / "ws" / "ingest" / "quarantine.parquet").to_pylist()
    assert [(q["source_row"], q["reason"]) for q in quarantine] == [(2, "out_of_range"), (3, "out_of_range")]
    assert manifest.counts["behaviors_kept"] == 1
