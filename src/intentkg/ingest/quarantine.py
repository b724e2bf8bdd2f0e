"""Bad rows go to a quarantine table with their file, row number and reason; the run goes on.

Beside the bad rows it keeps, per input file, the ledger of where its lines went (``files``) and
warnings about whole files (``warnings``, e.g. a file with a header and no rows); the ingest
manifest records both and the CLI prints the warnings.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pyarrow as pa

from intentkg.schemas import QUARANTINE

RAW_LIMIT = 2000  # characters of the offending row kept for inspection


class Quarantine:
    def __init__(self) -> None:
        self._rows: list[dict[str, Any]] = []
        self.by_reason: Counter = Counter()
        self.by_file: Counter = Counter()
        self.files: dict[str, dict[str, int]] = {}
        self.warnings: list[str] = []

    def warn(self, file: str, message: str) -> None:
        self.warnings.append(f"{file}: {message}")

    def add(self, *, file: str, row: int | None, reason: str, detail: str,
            column: str | None = None, raw: Any = None) -> None:
        if raw is not None and not isinstance(raw, str):
            raw = json.dumps(raw, default=_printable, ensure_ascii=False)
        if raw is not None and len(raw) > RAW_LIMIT:
            raw = raw[:RAW_LIMIT] + "…"
        self._rows.append({"source_file": file, "source_row": row, "column": column,
                           "reason": reason, "detail": detail, "raw": raw})
        self.by_reason[reason] += 1
        self.by_file[file] += 1

    def __len__(self) -> int:
        return len(self._rows)

    def table(self) -> pa.Table:
        return pa.Table.from_pylist(self._rows, schema=QUARANTINE)

    def summary(self) -> dict[str, Any]:
        return {"rows": len(self), "by_reason": dict(self.by_reason), "by_file": dict(self.by_file),
                "files": self.files, "warnings": self.warnings}


def _printable(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
