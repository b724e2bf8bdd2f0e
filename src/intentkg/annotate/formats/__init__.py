"""Import and export of annotations: JSONL / Parquet, Argilla and Label Studio.

    import_file(store, "labels.json")                  # format detected from the content
    export_store(store, "out/", "label-studio")
"""

from __future__ import annotations

import json
from pathlib import Path

from intentkg.annotate.formats import argilla, jsonl_parquet, label_studio
from intentkg.annotate.formats.records import ImportResult, to_store
from intentkg.annotate.store import Store
from intentkg.errors import ConfigError, InputError

FORMATS = ("auto", "jsonl", "parquet", "argilla", "label-studio")


def _resolve(path: Path) -> Path:
    if path.is_dir():
        for name in ("records.jsonl", "records.json", "tasks.json"):
            if (path / name).exists():
                return path / name
        raise InputError("folder has no records.jsonl (Argilla) or tasks.json (Label Studio)", file=str(path))
    return path


def detect(rows: list[dict]) -> str:
    first = next((r for r in rows if isinstance(r, dict)), {})
    if "data" in first:
        return "label-studio"
    if "fields" in first or "responses" in first or any(k.endswith(".responses") for k in first):
        return "argilla"
    return "jsonl"


def import_file(store: Store, path: str | Path, fmt: str = "auto", users: str | Path | None = None,
                titles: dict[str, str] | None = None) -> ImportResult:
    """Read ``path`` in ``fmt`` and add its items and answers to ``store`` (``titles``: product id -> title)."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    path = _resolve(Path(path))
    rows = jsonl_parquet.read_rows(path)
    if fmt == "auto":
        fmt = "parquet" if path.suffix == ".parquet" else detect(rows)
    mapping: dict[str, str] = {}
    if users:
        try:
            mapping = {str(k): str(v) for k, v in json.loads(Path(users).read_text(encoding="utf-8")).items()}
        except (OSError, json.JSONDecodeError, AttributeError) as exc:
            raise InputError(f"cannot read the user map (a JSON object id -> name): {exc}", file=str(users)) from None
    if fmt == "argilla":
        rows = argilla.to_records(rows, str(path), mapping)
    elif fmt == "label-studio":
        rows = label_studio.to_records(rows, str(path), mapping)
    return to_store(store, rows, path, source=f"import:{fmt}", titles=titles)


def export_store(store: Store, path: str | Path, fmt: str) -> Path:
    """Write the store's items and answers to ``path`` (a file for jsonl/parquet, a folder otherwise)."""
    path = Path(path)
    if fmt == "argilla":
        return argilla.export(store, path)
    if fmt == "label-studio":
        return label_studio.export(store, path)
    if fmt in ("jsonl", "parquet"):
        if path.suffix not in (".jsonl", ".parquet"):
            path = path / f"annotations.{fmt}" if path.is_dir() or not path.suffix else path.with_suffix(f".{fmt}")
        return jsonl_parquet.write_rows(jsonl_parquet.export_rows(store), path)
    raise ConfigError(f"--format {fmt!r}: use jsonl, parquet, argilla or label-studio")


__all__ = ["FORMATS", "ImportResult", "detect", "export_store", "import_file"]
