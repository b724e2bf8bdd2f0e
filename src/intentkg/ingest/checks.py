"""Row-level checks: each bad row is quarantined with its row number and reason, never dropped silently.

    check = RowChecker(table, file, quarantine)
    check.text("title", required=True, max_chars=1000)
    check.integer("support", min_value=1)
    check.unique("product_id")
    good = check.result()
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from intentkg.ingest.quarantine import Quarantine
from intentkg.ingest.reading import ROW

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
DEFAULT_MAX_CHARS = {"title": 1_000, "query": 500, "description": 50_000, "bullets": 50_000, "default": 5_000}


class RowChecker:
    def __init__(self, table: pa.Table, file: str, quarantine: Quarantine):
        self.table = table
        self.file = file
        self.quarantine = quarantine
        self.bad = np.zeros(table.num_rows, dtype=bool)
        self._rows = table.column(ROW).to_numpy()

    def _reject(self, mask: np.ndarray, reason: str, column: str, detail: str) -> None:
        new = mask & ~self.bad
        for index in np.flatnonzero(new):
            self.quarantine.add(file=self.file, row=int(self._rows[index]), column=column, reason=reason,
                                detail=detail, raw=self._raw(int(index)))
        self.bad |= new

    def _raw(self, index: int) -> dict:
        return {name: self.table.column(name)[index].as_py() for name in self.table.column_names if name != ROW}

    def _set(self, name: str, column: pa.ChunkedArray | pa.Array) -> None:
        self.table = self.table.set_column(self.table.column_names.index(name), name, column)

    def text(self, name: str, *, required: bool = False, max_chars: int | None = None) -> None:
        """Decode to UTF-8 text, strip it; reject invalid UTF-8, empty required values, absurd lengths."""
        if name not in self.table.column_names:
            return
        column = self.table.column(name).combine_chunks()
        if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
            column = self._decode(name, column)
        elif not pa.types.is_string(column.type):
            column = pc.cast(column, pa.string())
        column = pc.utf8_trim_whitespace(column)
        nul = pc.fill_null(pc.match_substring(column, "\x00"), False).to_numpy(zero_copy_only=False)
        self._reject(nul, "nul_character", name, f"{name} contains a NUL character (\\0): the file is binary "
                                                 f"or not UTF-8 text (UTF-16?) -> re-export it as UTF-8")
        if required:
            empty = pc.fill_null(pc.equal(pc.utf8_length(column), 0), True).to_numpy(zero_copy_only=False)
            self._reject(empty, f"empty_{name}", name, f"{name} is empty; every row needs one")
        limit = max_chars or DEFAULT_MAX_CHARS.get(name, DEFAULT_MAX_CHARS["default"])
        long = pc.fill_null(pc.greater(pc.utf8_length(column), limit), False).to_numpy(zero_copy_only=False)
        self._reject(long, "too_long", name, f"{name} is longer than {limit} characters; check the column mapping")
        self._set(name, column)

    def _decode(self, name: str, column: pa.Array) -> pa.Array:
        try:
            return pc.cast(column, pa.string())
        except pa.ArrowInvalid:
            values = column.to_pylist()
            decoded, bad = [], np.zeros(len(values), dtype=bool)
            for i, value in enumerate(values):
                try:
                    decoded.append(None if value is None else value.decode("utf-8"))
                except UnicodeDecodeError:
                    decoded.append(None)
                    bad[i] = True
            self._reject(bad, "bad_utf8", name, f"{name} is not valid UTF-8; re-export the file as UTF-8")
            return pa.array(decoded, pa.string())

    def integer(self, name: str, *, required: bool = False, min_value: int | None = None) -> None:
        """Parse to int64 ("3", "3.0", "9007199254740993" and 3 accepted, exactly); reject text, fractions,
        values below min and values outside int64."""
        if name not in self.table.column_names:
            return
        column = self.table.column(name).combine_chunks()
        if pa.types.is_binary(column.type):
            column = self._decode(name, column)
        values = column.to_pylist()
        parsed: list[int | None] = []
        wrong = np.zeros(len(values), dtype=bool)
        huge = np.zeros(len(values), dtype=bool)
        for i, value in enumerate(values):
            number = _as_int(value)
            if number is _WRONG or (number is None and required):
                wrong[i] = True
                number = None
            elif number is not None and not INT64_MIN <= number <= INT64_MAX:
                huge[i] = True
                number = None
            elif number is not None and min_value is not None and number < min_value:
                wrong[i] = True
            parsed.append(number)
        detail = f"{name} must be a whole number" + (f" >= {min_value}" if min_value is not None else "")
        self._reject(wrong, "wrong_type", name, detail)
        self._reject(huge, "out_of_range", name,
                     f"{name} is beyond the 64-bit integer range (±9.2e18); check the column mapping or the export")
        self._set(name, pa.array(parsed, pa.int64()))

    def unique(self, name: str) -> None:
        """Keep the first row of each id; later rows with the same id are quarantined."""
        seen: set = set()
        dup = np.zeros(self.table.num_rows, dtype=bool)
        for i, value in enumerate(self.table.column(name).to_pylist()):
            if self.bad[i]:
                continue
            if value in seen:
                dup[i] = True
            else:
                seen.add(value)
        self._reject(dup, "duplicate_id", name, f"{name} already appeared in an earlier row; the first one is kept")

    def reject_where(self, mask: np.ndarray, reason: str, column: str, detail: str) -> None:
        self._reject(mask, reason, column, detail)

    def result(self) -> pa.Table:
        return self.table.filter(pa.array(~self.bad))


_WRONG = object()


def _as_int(value):
    """An exact int, None for blank, or _WRONG. Text is parsed as a decimal, never through a float,
    so integers above 2**53 keep their value."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return _WRONG
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if np.isfinite(value) and value == int(value) else _WRONG
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return _WRONG
    if not number.is_finite() or number != number.to_integral_value():
        return _WRONG
    if abs(number.adjusted()) > 40:  # 1e30 is "out of range", 1e999999 is not worth expanding
        return INT64_MAX + 1
    return int(number)
