"""Label Studio: export tasks + a labeling config to annotate there, import its JSON export back.

Export writes a folder with ``label_config.xml`` (the behaviour and explanation as text, the five
questions as single-choice ``Choices`` with ``yes`` / ``no``) and ``tasks.json`` (one task per
candidate; ``data`` holds the candidate's fields, answers already in the store go in as
``annotations``). Create a project with the config and import the tasks.

Import reads Label Studio's "JSON" export (tasks with ``annotations``, each with ``result`` items
``{"from_name": <question>, "value": {"choices": ["yes"]}}`` and ``completed_by``) or its
"JSON-MIN" export (one flat object per annotation with the questions as keys). Cancelled
(skipped) annotations are left out. ``completed_by`` is a user id or a ``{"email": ...}`` object;
``users`` maps ids to names (else ``ls-<id>``).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from intentkg import atomic_file
from intentkg.annotate.display import relation_phrase
from intentkg.annotate.formats.argilla import behaviour_text
from intentkg.annotate.questions import NAMES, QUESTIONS
from intentkg.annotate.store import Store
from intentkg.errors import InputError

DATA_KEYS = ("candidate_id", "kind", "head", "relation", "tail", "category", "batch", "left_text", "right_text")


def label_config() -> str:
    lines = ['<View>', '  <Header value="Behaviour"/>', '  <Text name="behaviour" value="$behaviour"/>',
             '  <Header value="Explanation"/>', '  <Text name="explanation" value="$explanation"/>']
    for q in QUESTIONS:
        lines += [f'  <Header value={quoteattr(q.text)}/>',
                  f'  <Choices name="{q.name}" toName="explanation" choice="single" showInline="true" required="true">',
                  '    <Choice value="yes"/>', '    <Choice value="no"/>', '  </Choices>']
    lines.append('</View>')
    return "\n".join(lines) + "\n"


def _result(values: dict[str, bool | None]) -> list[dict[str, Any]]:
    return [{"from_name": q, "to_name": "explanation", "type": "choices",
             "value": {"choices": ["yes" if values[q] else "no"]}} for q in NAMES if values[q] is not None]


def export(store: Store, folder: str | Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    answers = defaultdict(list)
    for a in store.answers(role="annotator"):
        answers[a.item_id].append(a)
    tasks = []
    for item in store.items():
        data = {"behaviour": behaviour_text(item), "explanation": f"{relation_phrase(item.relation)} {item.tail}",
                "candidate_id": item.item_id, "kind": item.kind, "head": item.head, "relation": item.relation,
                "tail": item.tail, "category": item.category, "batch": item.batch,
                "left_text": item.left_text, "right_text": item.right_text}
        task: dict[str, Any] = {"data": data}
        if answers[item.item_id]:
            task["annotations"] = [{"completed_by": {"email": a.annotator}, "result": _result(a.values),
                                    "was_cancelled": False} for a in answers[item.item_id]]
        tasks.append(task)
    atomic_file.write_text(folder / "label_config.xml", label_config())
    atomic_file.write_json(folder / "tasks.json", tasks, indent=1)
    return folder


def _person(completed_by: Any, users: dict[str, str]) -> str:
    if isinstance(completed_by, dict):
        key = completed_by.get("email") or completed_by.get("username") or completed_by.get("id")
    else:
        key = completed_by
    if key is None:
        return "label-studio"
    key = str(key)
    return users.get(key, key if not key.isdigit() else f"ls-{key}")


def to_records(rows: list[dict[str, Any]], file: str, users: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Label Studio tasks (JSON or JSON-MIN export) -> our flat records."""
    users = users or {}
    out: list[dict[str, Any]] = []
    for number, task in enumerate(rows, start=1):
        if not isinstance(task, dict):
            raise InputError("each Label Studio task must be a JSON object", file=file, row=number)
        if "data" not in task:  # JSON-MIN: flat, one row per annotation
            cid = task.get("candidate_id")
            if not cid:
                raise InputError("JSON-MIN row without candidate_id", file=file, row=number, column="candidate_id")
            record = {k: task.get(k) for k in DATA_KEYS}
            record.update({q: task.get(q) for q in NAMES})
            record["annotator"] = _person(task.get("annotator"), users) if task.get("annotator") is not None else None
            out.append(record)
            continue
        data = task["data"] or {}
        if not data.get("candidate_id"):
            raise InputError("task without data.candidate_id (was it exported by intentkg?)", file=file, row=number,
                             column="data.candidate_id")
        base = {k: data.get(k) for k in DATA_KEYS}
        done = [a for a in task.get("annotations") or task.get("completions") or [] if not a.get("was_cancelled")]
        if not done:
            out.append(base)
        for ann in done:
            record = dict(base, annotator=_person(ann.get("completed_by"), users))
            for res in ann.get("result") or []:
                if res.get("from_name") in NAMES:
                    choices = (res.get("value") or {}).get("choices") or []
                    record[res["from_name"]] = choices[0] if choices else None
            out.append(record)
    return out
