"""Annotations as JSONL or Parquet: one row per person per candidate, item text included.

The row layout is the bundled demo file's (``annotated_candidates.jsonl``): ``candidate_id``,
``behavior_kind``, ``head_text``, ``product_ids``, ``relation``, ``tail``, ``annotator``, the five
answers, plus ``role``, ``batch``, ``category`` and ``created_at``. Export then import gives back
the same store content.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from intentkg import atomic_file
from intentkg.annotate.questions import NAMES
from intentkg.annotate.store import Store
from intentkg.errors import InputError


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a .jsonl / .json (a list) / .parquet file; bad JSON names its line."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=str(path))
    if path.suffix == ".parquet":
        try:
            return pq.read_table(path).to_pylist()
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"not a readable Parquet file: {exc}", file=str(path)) from None
    text = path.read_text(encoding="utf-8", errors="strict")
    if path.suffix == ".json" or text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"bad JSON: {exc.msg}", file=str(path), row=exc.lineno) from None
        if not isinstance(data, list):
            raise InputError("expected a JSON list of rows", file=str(path))
        return data
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"bad JSON: {exc.msg}", file=str(path), row=number) from None
        if not isinstance(row, dict):
            raise InputError("each line must be a JSON object", file=str(path), row=number)
        rows.append(row)
    return rows


def _item_fields(item) -> dict[str, Any]:
    return {"candidate_id": item.item_id, "behavior_kind": item.kind, "head_text": item.head,
            "product_ids": item.product_ids, "relation": item.relation, "tail": item.tail}


def export_rows(store: Store) -> list[dict[str, Any]]:
    """One row per answer, plus one answer-less row per item nobody answered yet."""
    items = {i.item_id: i for i in store.items()}
    answered: set[str] = set()
    rows = []
    for a in store.answers():
        item = items[a.item_id]
        answered.add(a.item_id)
        rows.append({**_item_fields(item), "annotator": a.annotator, **{q: a.values[q] for q in NAMES},
                     "role": a.role, "batch": "audit" if a.role == "auditor" else item.batch,
                     "category": item.category, "behavior_id": item.behavior_id, "left_text": item.left_text,
                     "right_text": item.right_text, "created_at": a.created_at})
    for item_id, item in items.items():
        if item_id not in answered:
            rows.append({**_item_fields(item), "annotator": None, **{q: None for q in NAMES}, "role": None,
                         "batch": item.batch, "category": item.category, "behavior_id": item.behavior_id,
                         "left_text": item.left_text, "right_text": item.right_text, "created_at": None})
    return rows


def write_rows(rows: list[dict[str, Any]], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file.replacing(path) as tmp:
        if path.suffix == ".parquet":
            pq.write_table(pa.Table.from_pylist(rows), tmp, compression="zstd")
        else:
            with open(tmp, "w", encoding="utf-8") as handle:
                for row in rows:
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path
