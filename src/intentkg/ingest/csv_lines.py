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
import mmap
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
WINDOW_LINES = 50_000  # after a stray quote the rest of the file is parsed this many lines at a time
assert WINDOW_LINES > 2 * MAX_RECORD_LINES  # a window always holds more than one record
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
    """The file's rows as binary columns named by the header, plus ``__row`` (the file line number).

    The whole file is parsed at once; after an unbalanced quote the rest is parsed in windows of
    ``WINDOW_LINES`` lines (each window's last record, which the cut may have split, is read again
    at the start of the next), so any number of stray quotes costs one pass over the file.
    """
    header = read_header(path, delimiter)
    ledger = {"lines": count_lines(path), "header_lines": 1, "blank_lines": 0, "records": 0, "rows": 0,
              "malformed_row": 0, "unbalanced_quote": 0}
    covered = 0  # lines accounted for by records and stray-quote lines
    pieces: list[pa.Table] = []
    with open(path, "rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    data = pa.py_buffer(mapped)
    line, offset, windowed = 2, _offset_of_line(data, 2), False
    while offset < data.size:
        length = _offset_of_line(data.slice(offset), WINDOW_LINES + 1) if windowed else data.size - offset
        at_end = offset + length >= data.size
        chunk = data.slice(offset, length)
        parsed = _Parsed(path, chunk, header, delimiter, line, quoted=mapped.find(b'"', offset, offset + length) >= 0)
        too_long = np.flatnonzero(parsed.spans > MAX_RECORD_LINES)
        if too_long.size:
            stop = int(too_long[0])
            next_line = int(parsed.starts[stop]) + 1
        elif at_end:
            stop, next_line = parsed.count, 0
        else:  # the window's last record may be cut short: read it again with the next window
            stop = max(parsed.count - 1, 0)
            next_line = int(parsed.starts[stop]) if parsed.count else line + WINDOW_LINES
        pieces.append(parsed.emit(stop, quarantine, ledger))
        covered += int(parsed.spans[:stop].sum()) - parsed.blank_in(stop)
        if too_long.size:
            stray = next_line - 1
            covered += 1
            _unbalanced(path, stray, _line_text(chunk, stray - line), quarantine, ledger)
        elif at_end:
            break
        offset += _offset_of_line(chunk, next_line - line + 1)
        line, windowed = next_line, True
    ledger["blank_lines"] = ledger["lines"] - ledger["header_lines"] - covered
    quarantine.files[str(path)] = ledger
    if not pieces:
        return pa.table({**{h: pa.array([], pa.binary()) for h in header}, ROW: pa.array([], pa.int64())})
    return pa.concat_tables(pieces)


def _unbalanced(path: Path, line: int, raw: str, quarantine: Quarantine, ledger: dict) -> None:
    ledger["unbalanced_quote"] += 1
    ledger["records"] += 1
    quarantine.add(file=str(path), row=line, reason="unbalanced_quote",
                   detail=f"a quote opened on line {line} is still open more than {MAX_RECORD_LINES} lines "
                          f"later; this line is set aside and reading goes on from line {line + 1} "
                          f"-> close the quote or write it twice (\"\")", raw=raw)
    if ledger["unbalanced_quote"] > MAX_UNBALANCED_QUOTES:
        raise InputError(f"more than {MAX_UNBALANCED_QUOTES} unbalanced quotes", file=str(path), row=line,
                         hint="this is not CSV with double-quote quoting; re-export it "
                              "(quote fields that contain quotes, double inner quotes)")


class _Parsed:
    """Arrow's parse of one piece of the file, with each record's first line and line count."""

    def __init__(self, path: Path, data: pa.Buffer, header: list[str], delimiter: str, first_line: int,
                 quoted: bool = True):
        self.path = path
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
        newlines = np.zeros(kept, dtype=np.int64)
        length = np.zeros(kept, dtype=np.int64)
        for column in table.columns:
            if quoted:  # only a quoted value can hold a newline: files without quotes skip the search
                newlines += _newlines_per_value(column)
            length += _numpy(pc.binary_length(column))
        self.count = kept + len(invalid)
        self.is_invalid = np.zeros(self.count, dtype=bool)
        self.spans = np.ones(self.count, dtype=np.int64)
        for number, (text, _, _) in invalid.items():
            self.is_invalid[number - 1] = True
            self.spans[number - 1] = 1 + text.count("\n")
        self.spans[~self.is_invalid] += newlines
        self.blank = np.zeros(self.count, dtype=bool)  # a line of nothing (or only delimiters) is not a record
        self.blank[~self.is_invalid] = length == 0
        self.starts = first_line + np.concatenate([[0], np.cumsum(self.spans)[:-1]]).astype(np.int64) \
            if self.count else np.zeros(0, np.int64)
        self.table, self.invalid = table, invalid

    def blank_in(self, stop: int) -> int:
        return int(self.blank[:stop].sum())

    def emit(self, stop: int, quarantine: Quarantine, ledger: dict) -> pa.Table:
        """The rows among the first ``stop`` records (with ``__row``); their malformed records quarantined."""
        for index in np.flatnonzero(self.is_invalid[:stop]):
            text, expected, actual = self.invalid[int(index) + 1]
            first, last = int(self.starts[index]), int(self.starts[index] + self.spans[index] - 1)
            where = f"lines {first}-{last}" if last > first else f"line {first}"
            quarantine.add(file=str(self.path), row=first, reason="malformed_row",
                           detail=f"expected {expected} fields, found {actual} ({where})", raw=text)
        rows_mask = ~self.is_invalid[:stop]
        keep_rows = int(rows_mask.sum())
        blank = self.blank[:stop][rows_mask]
        ledger["records"] += stop - int(blank.sum())
        ledger["malformed_row"] += stop - keep_rows
        ledger["rows"] += keep_rows - int(blank.sum())
        table = self.table.slice(0, keep_rows)
        table = table.append_column(ROW, pa.array(self.starts[:stop][rows_mask], pa.int64()))
        return table.filter(pa.array(~blank)) if blank.any() else table


def _newlines_per_value(column: pa.ChunkedArray) -> np.ndarray:
    """How many "\\n" each binary value holds (searching the value bytes once; most files have none)."""
    counts = []
    for chunk in column.chunks:
        _, offsets_buffer, values_buffer = chunk.buffers()
        offsets = np.frombuffer(offsets_buffer, np.int32)[chunk.offset:chunk.offset + len(chunk) + 1]
        values = np.frombuffer(values_buffer, np.uint8) if values_buffer is not None else np.zeros(0, np.uint8)
        found = np.flatnonzero(values[offsets[0]:offsets[-1]] == 10) + offsets[0] if len(chunk) else []
        if len(found) == 0:
            counts.append(np.zeros(len(chunk), np.int64))
        else:
            counts.append(np.searchsorted(found, offsets[1:]) - np.searchsorted(found, offsets[:-1]))
    return np.concatenate(counts).astype(np.int64) if counts else np.zeros(0, np.int64)


def _numpy(values: pa.ChunkedArray) -> np.ndarray:
    chunks = [c.to_numpy(zero_copy_only=False) for c in values.chunks]
    return np.concatenate(chunks).astype(np.int64) if chunks else np.zeros(0, np.int64)


def _offset_of_line(data: pa.Buffer, line: int) -> int:
    """Byte offset where 1-based ``line`` of ``data`` starts (``data.size`` when there are fewer lines)."""
    view = np.frombuffer(data, np.uint8)
    offset, needed = 0, line - 1
    while needed > 0 and offset < view.size:
        newlines = np.flatnonzero(view[offset:offset + _BLOCK] == 10)
        if newlines.size < needed:
            needed -= newlines.size
            offset += _BLOCK
            continue
        return offset + int(newlines[needed - 1]) + 1
    return min(offset, view.size) if needed == 0 else view.size


def _line_text(data: pa.Buffer, index: int) -> str:
    """Line ``index`` (0-based) of ``data``, at most 4,096 bytes of it."""
    view = memoryview(data)
    start = _offset_of_line(data, index + 1)
    end = bytes(view[start:start + 4096]).find(b"\n")
    return bytes(view[start:start + (end if end >= 0 else 4096)]).decode("utf-8", errors="replace")
