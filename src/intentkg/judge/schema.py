"""What a judge answer must look like, and a defensive parser for what models actually write.

The wanted answer is JSON::

    {"scores": [{"id": 1, "score": 0.8, "reason": "tents are for camping"}, ...]}

with exactly one entry per candidate id of the group and every score in [0, 1]. Models wrap JSON
in prose or code fences, or give a bare list, or write ``1: 0.8 - reason`` lines; the parser
accepts those shapes, and then pydantic checks the result. Anything else raises
:class:`JudgeFormatError` with a message the retry prompt can quote.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

MAX_REASON = 200


class JudgeFormatError(ValueError):
    """The answer could not be read as a valid judgement of the whole group."""


class Score(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int = Field(ge=1)
    score: float = Field(ge=0.0, le=1.0)
    reason: str = ""

    @field_validator("reason", mode="before")
    @classmethod
    def _short(cls, value: Any) -> str:
        return " ".join(str(value or "").split())[:MAX_REASON]


class Judgement(BaseModel):
    scores: list[Score]


_LINE = re.compile(r"^\s*(?:[-*]\s*)?(?:id\s*)?(\d+)\s*[.:)\]-]\s*(?:score\s*[:=]?\s*)?([01](?:\.\d+)?|\.\d+)\b\s*[-:,|]*\s*(.*)$",
                   re.IGNORECASE)


REPAIRS = ("", "}]}", '"}]}', "]}", "}")  # answers cut off by the token limit lose their closers


def _first_json(text: str) -> Any:
    """The outermost JSON object, or list of objects, in ``text`` (prose and fences around it are ignored).

    Each opening bracket is tried with the repairs before any bracket after it, so a truncated
    answer is read as a whole rather than as its first inner object.
    """
    decoder = json.JSONDecoder()
    trimmed = re.sub(r"[\s,{]+$", "", text)  # an answer stopped before its next entry ends in ", {"
    for match in re.finditer(r"[\[{]", text):
        for suffix in REPAIRS:
            try:
                value, _ = decoder.raw_decode(trimmed[match.start():] + suffix)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict) or (isinstance(value, list) and value and all(isinstance(v, dict) for v in value)):
                return value
    return None


def _as_scores(data: Any) -> Any:
    if isinstance(data, dict):
        for key in ("scores", "results", "judgements", "candidates"):
            if key in data:
                return data[key]
        if all(str(k).isdigit() for k in data):  # {"1": 0.8, ...} or {"1": {"score": ...}}
            return [dict(v, id=int(k)) if isinstance(v, dict) else {"id": int(k), "score": v} for k, v in data.items()]
    return data


def parse_judgement(text: str, ids: list[int]) -> list[Score]:
    """The validated scores for exactly ``ids``, in that order."""
    data = _first_json(text or "")
    raw = _as_scores(data) if data is not None else None
    if raw is None:
        lines = [m.groups() for m in map(_LINE.match, (text or "").splitlines()) if m]
        raw = [{"id": int(i), "score": float(s), "reason": r} for i, s, r in lines] or None
    if raw is None:
        raise JudgeFormatError("no JSON object with a 'scores' list was found")
    try:
        judgement = Judgement(scores=raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise JudgeFormatError(f"invalid judgement at {where}: {first['msg']}") from None
    by_id: dict[int, Score] = {}
    for s in judgement.scores:
        if s.id in by_id:
            raise JudgeFormatError(f"id {s.id} is scored twice")
        by_id[s.id] = s
    missing = [i for i in ids if i not in by_id]
    extra = sorted(set(by_id) - set(ids))
    if missing or extra:
        raise JudgeFormatError(f"scores must cover ids {ids} exactly; missing {missing}, unexpected {extra}")
    return [by_id[i] for i in ids]
