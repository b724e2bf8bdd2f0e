from __future__ import annotations

import pytest

from intentkg.errors import InputError
from intentkg.ingest.quarantine import Quarantine
from intentkg.ingest.reading import ROW, detect_format, load


def test_row_numbers_survive_skipped_lines(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,x\n2,y,EXTRA\n3,z\n4,w,1,2\n5,v\n")
    quarantine = Quarantine()
    table = load(path, {"a": "a", "b": "b"}, {}, quarantine, "test")
    # row numbers are file line numbers (the header is line 1)
    assert table.column(ROW).to_pylist() == [2, 4, 6]
    assert [bytes(v).decode() for v in table.column("a").to_pylist()] == ["1", "3", "5"]
    assert sorted(q["source_row"] for q in quarantine.table().to_pylist()) == [3, 5]


def test_header_only_and_bom_warns(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("\ufeffa,b\n".encode())
    quarantine = Quarantine()
    table = load(path, {"a": "a"}, {"b": "b"}, quarantine, "test")
    assert table.num_rows == 0 and "b" in table.column_names
    assert quarantine.warnings == [f"{path}: the file has column names but no rows; nothing was read from it"]


def test_row_numbers_are_file_lines_across_multiline_values_and_blank_lines(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('a,b\n1,x\n\n2,y,EXTRA\n3,"multi\nline"\n\n4,w,"q\nr"\n5,v\n')
    quarantine = Quarantine()
    table = load(path, {"a": "a", "b": "b"}, {}, quarantine, "test")
    assert table.column(ROW).to_pylist() == [2, 5, 10]
    assert [(q["source_row"], q["detail"]) for q in quarantine.table().to_pylist()] == [
        (4, "expected 2 fields, found 3 (line 4)"), (8, "expected 2 fields, found 3 (lines 8-9)")]
    ledger = quarantine.files[str(path)]
    assert ledger == {"lines": 10, "header_lines": 1, "blank_lines": 2, "records": 5, "rows": 3,
                      "malformed_row": 2, "unbalanced_quote": 0}


def test_a_stray_quote_costs_one_line_not_the_rest_of_the_file(tmp_path):
    """Old code: 5 rows kept and one malformed_row swallowing the other 19,995 (and wrong row numbers)."""
    lines = [f"query {i},P{i % 7}" for i in range(20_001)]
    lines[5] = '"query 5 big,P5'  # an opening quote at the start of a field is never closed...
    lines[12_000] = '"query 12000,P3'  # ...and a second one further down
    path = tmp_path / "search.csv"
    path.write_text("query,product_id\n" + "\n".join(lines) + "\n")
    quarantine = Quarantine()
    table = load(path, {"query": "query", "product_id": "product_id"}, {}, quarantine, "test")
    assert table.num_rows == 19_999
    assert [(q["source_row"], q["reason"]) for q in quarantine.table().to_pylist()] == [
        (7, "unbalanced_quote"), (12_002, "unbalanced_quote")]
    assert "still open more than 100 lines later" in quarantine.table().to_pylist()[0]["detail"]
    rows = table.column(ROW).to_pylist()
    queries = [bytes(v).decode() for v in table.column("query").to_pylist()]
    # every kept row's number is its line in the file
    text_lines = path.read_text().split("\n")
    assert all(text_lines[r - 1].startswith(q + ",") for r, q in zip(rows, queries))
    ledger = quarantine.files[str(path)]
    assert ledger["lines"] == 20_002 == ledger["header_lines"] + ledger["blank_lines"] + ledger["records"]
    assert ledger["records"] == ledger["rows"] + ledger["unbalanced_quote"] + ledger["malformed_row"]


def test_a_short_swallow_is_one_malformed_row_naming_its_lines(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('a,b\n1,x\n2,"y\n3,z\n4,w",q\n5,v\n')
    quarantine = Quarantine()
    table = load(path, {"a": "a", "b": "b"}, {}, quarantine, "test")
    assert table.column(ROW).to_pylist() == [2, 6]
    assert [(q["source_row"], q["reason"], q["detail"]) for q in quarantine.table().to_pylist()] == [
        (3, "malformed_row", "expected 2 fields, found 3 (lines 3-5)")]


def test_parquet_list_columns_become_json_text(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"id": ["A", "B"], "tags": [["x", "y"], None]}), path)
    table = load(path, {"id": "id"}, {"tags": "tags"}, Quarantine(), "test")
    assert table.column("tags").to_pylist() == ['["x", "y"]', None]


def test_empty_file_is_a_clear_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("")
    with pytest.raises(InputError, match="no header"):
        load(path, {"a": "a"}, {}, Quarantine(), "test")


def test_format_detection():
    from pathlib import Path

    assert detect_format(Path("a.parquet")) == "parquet"
    assert detect_format(Path("a.TSV")) == "tsv"
    assert detect_format(Path("meta_Beauty.jsonl")) == "jsonl"
    with pytest.raises(InputError):
        detect_format(Path("a.xlsx"))


def test_stray_quotes_and_multiline_values_across_read_windows(tmp_path, monkeypatch):
    """After a stray quote the rest is read in windows; records cut by a window end are read again."""
    from intentkg.ingest import csv_lines

    monkeypatch.setattr(csv_lines, "WINDOW_LINES", 250)
    records, expected, strays, line = [], [], [], 2
    for i in range(1500):
        if i in (40, 400, 401 + 150, 1100):  # strays, each more than 100 lines before the next quote
            records.append(f'"s{i},x')
            strays.append(line)
            line += 1
        elif i % 7 == 0 and i not in range(30, 160) and i not in range(390, 720) and i not in range(1090, 1220):
            records.append(f'm{i},"first\nsecond\nthird"')
            expected.append((line, f"m{i}"))
            line += 3
        else:
            records.append(f"r{i},x")
            expected.append((line, f"r{i}"))
            line += 1
    path = tmp_path / "x.csv"
    path.write_text("a,b\n" + "\n".join(records) + "\n")
    quarantine = Quarantine()
    table = load(path, {"a": "a", "b": "b"}, {}, quarantine, "test")
    got = list(zip(table.column(ROW).to_pylist(), [bytes(v).decode() for v in table.column("a").to_pylist()]))
    assert got == expected
    assert [(q["source_row"], q["reason"]) for q in quarantine.table().to_pylist()] == [
        (s, "unbalanced_quote") for s in strays]
    ledger = quarantine.files[str(path)]
    assert ledger["lines"] == line - 1 and ledger["records"] == 1500 and ledger["blank_lines"] == 0
