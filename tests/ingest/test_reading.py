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
    assert table.column(ROW).to_pylist() == [1, 3, 5]
    assert [bytes(v).decode() for v in table.column("a").to_pylist()] == ["1", "3", "5"]
    assert sorted(q["source_row"] for q in quarantine.table().to_pylist()) == [2, 4]


def test_header_only_and_bom(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("\ufeffa,b\n".encode())
    table = load(path, {"a": "a"}, {"b": "b"}, Quarantine(), "test")
    assert table.num_rows == 0 and "b" in table.column_names


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
