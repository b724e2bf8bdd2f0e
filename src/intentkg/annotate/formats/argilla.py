"""Argilla (2.x) datasets: export settings + records to annotate there, import the responses back.

Export writes a folder with

- ``settings.json``: guidelines, two text fields (``behaviour``, ``explanation``), the five
  questions as label questions with labels ``yes`` / ``no``, and metadata properties;
- ``records.jsonl``: one record per candidate in the dict shape of ``rg.Record.to_dict()`` /
  ``rg.Record.from_dict()`` (``id``, ``fields``, ``metadata``, ``responses``, ``suggestions``).

Import reads records exported from Argilla, either nested (``dataset.records.to_json(...)`` or
``to_list(flatten=False)``: ``responses`` maps a question to ``[{"value", "user_id"}]``) or flat
(``to_list(flatten=True)``: ``"<question>.responses"`` and ``"<question>.responses.users"``).
Argilla names people by user id; ``users`` maps ids to names (else the id is the name). Responses
whose status is ``discarded`` or ``draft`` are skipped.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from intentkg import atomic_file
from intentkg.annotate.display import relation_phrase
from intentkg.annotate.questions import NAMES, QUESTIONS
from intentkg.annotate.store import Store
from intentkg.errors import InputError

GUIDELINES = ("Each record is one explanation of a shopping behaviour. Answer the five yes/no questions "
              "(COSMO's protocol); 'typical' is stricter than 'plausible'.")


def behaviour_text(item) -> str:
    if item.kind == "search_buy" and item.right_text:
        return f"searched: {item.left_text or item.head}\nbought: {item.right_text}"
    if item.kind == "co_buy" and item.left_text and item.right_text:
        return f"bought together: {item.left_text}\nand: {item.right_text}"
    return item.head


def settings() -> dict[str, Any]:
    return {
        "guidelines": GUIDELINES,
        "allow_extra_metadata": True,
        "fields": [{"name": "behaviour", "type": "text", "title": "Behaviour", "required": True},
                   {"name": "explanation", "type": "text", "title": "Explanation", "required": True}],
        "questions": [{"name": q.name, "type": "label_selection", "title": q.text, "description": q.help,
                       "labels": ["yes", "no"], "required": True} for q in QUESTIONS],
        "metadata": [{"name": n, "type": "terms"} for n in ("kind", "relation", "category", "batch")],
    }


def export(store: Store, folder: str | Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    answers = defaultdict(list)
    for a in store.answers(role="annotator"):
        answers[a.item_id].append(a)
    atomic_file.write_json(folder / "settings.json", settings())
    with atomic_file.replacing(folder / "records.jsonl") as tmp, open(tmp, "w", encoding="utf-8") as handle:
        for item in store.items():
            responses = {q: [{"value": "yes" if a.values[q] else "no", "user_id": a.annotator}
                             for a in answers[item.item_id] if a.values[q] is not None] for q in NAMES}
            record = {
                "id": item.item_id,
                "fields": {"behaviour": behaviour_text(item),
                           "explanation": f"{relation_phrase(item.relation)} {item.tail}"},
                "metadata": {"candidate_id": item.item_id, "kind": item.kind, "head": item.head,
                             "relation": item.relation, "tail": item.tail, "category": item.category or "",
                             "batch": item.batch, "left_text": item.left_text or "",
                             "right_text": item.right_text or ""},
                "responses": {q: v for q, v in responses.items() if v},
                "suggestions": {}, "vectors": {},
            }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return folder


def _flat_responses(record: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for q in NAMES:
        values = record.get(f"{q}.responses")
        if values is None:
            continue
        users = record.get(f"{q}.responses.users") or [None] * len(values)
        status = record.get(f"{q}.responses.status") or [None] * len(values)
        out[q] = [{"value": v, "user_id": u, "status": s} for v, u, s in zip(values, users, status)]
    return out


def to_records(rows: list[dict[str, Any]], file: str, users: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Argilla records -> our flat records (one per person per item)."""
    users = users or {}
    out = []
    for row_number, rec in enumerate(rows, start=1):
        if not isinstance(rec, dict):
            raise InputError("each Argilla record must be a JSON object", file=file, row=row_number)
        meta = dict(rec.get("metadata") or {})
        meta.update({k: v for k, v in rec.items() if k in ("candidate_id", "kind", "head", "relation", "tail")})
        cid = meta.get("candidate_id") or rec.get("id") or rec.get("external_id")
        if not cid:
            raise InputError("record without id or metadata.candidate_id", file=file, row=row_number, column="id")
        base = {k: meta.get(k) or None for k in ("kind", "head", "relation", "tail", "category", "batch",
                                                 "left_text", "right_text")}
        base["candidate_id"] = str(cid)
        responses = rec.get("responses")
        if not isinstance(responses, dict):
            responses = _flat_responses(rec)
        per_user: dict[str, dict[str, Any]] = defaultdict(dict)
        for q, given in responses.items():
            if q not in NAMES:
                continue
            for r in given or []:
                if r.get("status") in ("discarded", "draft"):
                    continue
                user = users.get(str(r.get("user_id")), str(r.get("user_id") or "argilla"))
                per_user[user][q] = r.get("value")
        if not per_user:
            out.append(base)
        for user, answers in per_user.items():
            out.append({**base, **answers, "annotator": user})
    return out
