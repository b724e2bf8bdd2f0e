"""The common shape every import format is turned into: one flat record per person per item.

A record has the item's fields (``candidate_id``, ``kind``, ``head``, ``relation``, ``tail`` and
optional ``left_text``, ``right_text``, ``product_ids``, ``category``, ``batch``) and, when it
carries answers, ``annotator``, ``role`` and the five questions. :func:`to_store` checks each
record and names the file, row and column of anything it cannot use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intentkg.annotate.questions import NAMES, parse_answer
from intentkg.annotate.store import ROLES, Answer, Item, Store
from intentkg.errors import InputError

ALIASES = {"behavior_kind": "kind", "head_text": "head", "candidate": "candidate_id", "user": "annotator"}
ITEM_FIELDS = ("kind", "head", "relation", "tail")


@dataclass
class ImportResult:
    records: int
    items_added: int
    answers_added: int
    answers_known: int  # already in the store (a re-import)


def normalise(record: dict[str, Any], titles: dict[str, str] | None = None) -> dict[str, Any]:
    """Our field names; left/right text recovered from 'A || B' heads or product ids when possible."""
    out = {ALIASES.get(k, k): v for k, v in record.items()}
    head, kind, products = out.get("head"), out.get("kind"), out.get("product_ids") or []
    if kind == "co_buy" and head and not out.get("left_text") and " || " in str(head):
        out["left_text"], out["right_text"] = str(head).split(" || ", 1)
    if kind == "search_buy" and head and not out.get("right_text") and titles and products:
        title = titles.get(str(products[-1]))
        if title:
            out["left_text"], out["right_text"] = head, title
    return out


def _item(record: dict[str, Any], file: str, row: int) -> Item:
    for name in ITEM_FIELDS:
        if not record.get(name):
            raise InputError(f"the candidate {record.get('candidate_id')!r} is not in the store yet and this row has "
                             f"no {name}", file=file, row=row, column=name,
                             hint=f"add {', '.join(ITEM_FIELDS)} to the rows, or sample the candidates first")
    products = record.get("product_ids") or []
    if isinstance(products, str):
        products = [p for p in products.split(",") if p]
    return Item(item_id=str(record["candidate_id"]), kind=str(record["kind"]), head=str(record["head"]),
                relation=str(record["relation"]), tail=str(record["tail"]), behavior_id=record.get("behavior_id"),
                left_text=record.get("left_text"), right_text=record.get("right_text"),
                product_ids=[str(p) for p in products], category=record.get("category"),
                batch=record.get("batch") or "main", audit=bool(record.get("audit") or False))


def _answer(record: dict[str, Any], file: str, row: int, source: str) -> Answer | None:
    values: dict[str, bool | None] = {}
    for q in NAMES:
        try:
            values[q] = parse_answer(record.get(q))
        except ValueError as exc:
            raise InputError(str(exc), file=file, row=row, column=q) from None
    if all(v is None for v in values.values()):
        return None
    annotator = record.get("annotator")
    if not annotator:
        raise InputError("answers without an annotator name", file=file, row=row, column="annotator",
                         hint="every answer row needs the name of the person who gave it")
    role = record.get("role") or "annotator"
    if role not in ROLES:
        raise InputError(f"role {role!r} is not one of {', '.join(ROLES)}", file=file, row=row, column="role")
    created = record.get("created_at")
    return Answer(str(record["candidate_id"]), str(annotator), role, values, source=source,
                  created_at=str(created) if created else "")


def load_titles(path: str | Path) -> dict[str, str]:
    """product_id -> title from a products table (CSV with a header, or Parquet)."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path, columns=["product_id", "title"])
        return dict(zip(table.column("product_id").to_pylist(), table.column("title").to_pylist()))
    import csv

    with open(path, newline="", encoding="utf-8") as handle:
        return {row["product_id"]: row["title"] for row in csv.DictReader(handle) if row.get("product_id")}


def to_store(store: Store, records: list[dict[str, Any]], file: str | Path, source: str,
             titles: dict[str, str] | None = None) -> ImportResult:
    """Add the records' items (new ones only) and answers (new ones only) to ``store``.

    ``titles`` (product id -> title) lets a search_buy row that names only its query and product
    id show the product's title too.
    """
    file = str(file)
    known = {i.item_id for i in store.items()}
    items: dict[str, Item] = {}
    answers: list[Answer] = []
    for row, raw in enumerate(records, start=1):
        record = normalise(raw, titles)
        if not record.get("candidate_id"):
            raise InputError("missing candidate_id", file=file, row=row, column="candidate_id")
        cid = str(record["candidate_id"])
        if cid not in known and cid not in items:
            items[cid] = _item(record, file, row)
        answer = _answer(record, file, row, source)
        if answer is not None:
            answers.append(answer)
    added_items = store.add_items(list(items.values()))
    added = store.add_answers(answers)
    return ImportResult(len(records), added_items, added, len(answers) - added)
