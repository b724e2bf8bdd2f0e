"""Read a CSV/TSV file so that every physical line is accounted for and every row carries its line number.

Arrow parses the file (quoted values may span lines). From the newlines inside each record we
know how many physical lines it covers, so each row gets the file line it starts on (the header
is line 1). A record that covers more than ``MAX_RECORD_LINES`` lines is an unbalanced quote
that swallowed the lines after it: its first line is quarantined as ``unbalanced_quote`` and
reading resumes on the next line, so one stray ``"`` costs one line, not the rest of the file.

The ledger of each file (``Quarantine.files``) says where every line went::

    lines = header_lines + blank_lines + sum(lines covered by each record)
    records = rows passed on + malformed_row + unbalanced_quote
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from intentkg.errors import InputError
from intentkg.ingest.quarantine import Quarantine

ROW = "__row"
MAX_RECORD_LINES = 100  # a quoted value spanning more lines than this is taken for an unbalanced quote
MAX_UNBALANCED_QUOTES = 100  # more than this and the file is not CSV with "-quoting: stop with a clear error
_BLOCK = 1 << 24


def read_header(path: Path, delimiter: str) -> list[str]:
    with open(path, "rb") as handle:
        header_line = handle.readline().decode("utf-8", errors="replace").lstrip("\ufeff")
    header = next(csv.reader([header_line], delimiter=delimiter), [])
    if not header or not any(h.strip() for h in header):
        raise InputError("the file has no header row", file=str(path), row=0,
                         hint="the first line must name the columns")
    return header


def count_lines(path: Path) -> int:
    """Physical lines (a last line without a newline counts)."""
    n, last = 0, b"\n"
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            n += block.count(b"\n")
            last = block[-1:]
    return n + (last != b"\n")


def load_csv(path: Path, delimiter: str, quarantine: Quarantine) -> pa.Table:
    """The file's rows as binary columns named by the header, plus ``__row`` (the file line number)."""
    header = read_header(path, delimiter)
    ledger = {"lines": count_lines(path), "header_lines": 1, "blank_lines": 0, "records": 0, "rows": 0,
              "malformed_row": 0, "unbalanced_quote": 0}
    pieces: list[pa.Table] = []
    first_line = 2  # the line the next segment starts on
    data = pa.memory_map(str(path)).read_buffer()
    offset = _offset_of_line(data, first_line)
    while offset < data.size:
        table, stray_line, next_line = _segment(path, data.slice(offset), header, delimiter, first_line,
                                                quarantine, ledger)
        pieces.append(table)
        if stray_line is None:
            break
        ledger["unbalanced_quote"] += 1
        ledger["records"] += 1
        quarantine.add(file=str(path), row=stray_line, reason="unbalanced_quote",
                       detail=f"a quote opened on line {stray_line} is still open more than {MAX_RECORD_LINES} "
                              f"lines later; this line is set aside and reading goes on from line {stray_line + 1} "
                              f"-> close the quote or write it twice (\"\")",
                       raw=_line_text(data, offset, stray_line - first_line))
        if ledger["unbalanced_quote"] > MAX_UNBALANCED_QUOTES:
            raise InputError(f"more than {MAX_UNBALANCED_QUOTES} unbalanced quotes", file=str(path),
                             row=stray_line, hint="this is not CSV with double-quote quoting; re-export it "
                                                  "(quote fields that contain quotes, double inner quotes)")
        offset += _offset_of_line(data.slice(offset), stray_line - first_line + 2)
        first_line = next_line
    ledger["blank_lines"] = ledger["lines"] - ledger["header_lines"] - ledger.pop("_covered", 0)
    quarantine.files[str(path)] = ledger
    if not pieces:
        return pa.table({**{h: pa.array([], pa.binary()) for h in header}, ROW: pa.array([], pa.int64())})
    return pa.concat_tables(pieces)


def _segment(path: Path, data: pa.Buffer, header: list[str], delimiter: str, first_line: int,
             quarantine: Quarantine, ledger: dict) -> tuple[pa.Table, int | None, int]:
    """Parse ``data`` (starting on file line ``first_line``); stop at the first record that spans too far.

    Returns (rows up to that record, the line of its opening quote or None, the line after it).
    """
    invalid: dict[int, tuple[str, int, int]] = {}

    def on_invalid(row) -> str:
        invalid[row.number] = (row.text, row.expected_columns, row.actual_columns)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(use_threads=False, block_size=_BLOCK, column_names=header),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid,
                                             newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={h: pa.binary() for h in header},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        raise InputError(f"cannot parse as CSV: {exc}", file=str(path)) from exc
    kept = table.num_rows
    spans_kept = np.ones(kept, dtype=np.int64)
    for name in table.column_names:
        newlines = pc.count_substring(table.column(name), "\n")
        spans_kept += pc.fill_null(newlines, 0).to_numpy().astype(np.int64) if kept else 0
    total = kept + len(invalid)
    is_invalid = np.zeros(total, dtype=bool)
    spans = np.ones(total, dtype=np.int64)
    for number, (text, _, _) in invalid.items():
        is_invalid[number - 1] = True
        spans[number - 1] = 1 + text.count("\n")
    spans[~is_invalid] = spans_kept
    starts = first_line + np.concatenate([[0], np.cumsum(spans)[:-1]]) if total else np.zeros(0, np.int64)
    too_long = np.flatnonzero(spans > MAX_RECORD_LINES)
    stop = int(too_long[0]) if too_long.size else total
    # rows before the swallowing record are good as parsed; everything from it on is parsed again
    keep_rows = int((~is_invalid[:stop]).sum())
    for index in np.flatnonzero(is_invalid[:stop]):
        text, expected, actual = invalid[int(index) + 1]
        last = int(starts[index] + spans[index] - 1)
        where = f"lines {starts[index]}-{last}" if last > starts[index] else f"line {starts[index]}"
        quarantine.add(file=str(path), row=int(starts[index]), reason="malformed_row",
                       detail=f"expected {expected} fields, found {actual} ({where})", raw=text)
    ledger["records"] += stop
    ledger["malformed_row"] += int(is_invalid[:stop].sum())
    ledger["rows"] += keep_rows
    ledger["_covered"] = ledger.get("_covered", 0) + int(spans[:stop].sum()) + (1 if too_long.size else 0)
    rows = starts[:stop][~is_invalid[:stop]]
    table = table.slice(0, keep_rows).append_column(ROW, pa.array(rows, pa.int64()))
    blank = _all_empty(table)
    if blank.any():  # a line of nothing but delimiters (or nothing) is not a record
        table = table.filter(pa.array(~blank))
        ledger["records"] -= int(blank.sum())
        ledger["rows"] -= int(blank.sum())
        ledger["_covered"] -= int(blank.sum())
    if too_long.size:
        stray = int(starts[stop])
        return table, stray, stray + 1
    return table, None, 0


def _all_empty(table: pa.Table) -> np.ndarray:
    empty = np.ones(table.num_rows, dtype=bool)
    for name in table.column_names:
        if name != ROW:
            empty &= pc.equal(pc.binary_length(table.column(name)), 0).to_numpy(zero_copy_only=False)
    return empty


def _offset_of_line(data: pa.Buffer, line: int) -> int:
    """Byte offset where 1-based ``line`` of ``data`` starts (``data.size`` when there are fewer lines)."""
    view = memoryview(data)
    offset, needed = 0, line - 1
    while needed > 0 and offset < len(view):
        chunk = bytes(view[offset:offset + _BLOCK])
        found = chunk.count(b"\n")
        if found < needed:
            needed -= found
            offset += len(chunk)
            continue
        position = -1
        for _ in range(needed):
            position = chunk.index(b"\n", position + 1)
        return offset + position + 1
    return offset if needed == 0 else len(view)


def _line_text(data: pa.Buffer, offset: int, index: int) -> str:
    view = memoryview(data)[offset:]
    start = _offset_of_line(data.slice(offset), index + 1)
    end = bytes(view[start:start + 4096]).find(b"\n")
    return bytes(view[start:start + (end if end >= 0 else 4096)]).decode("utf-8", errors="replace")
