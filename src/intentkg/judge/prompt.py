"""The judge prompt: one behaviour, its candidate explanations numbered, scored relative to each other.

Like RULER (OpenPipe's relative judge), the model sees the whole group at once and is told to
use the scale *relatively*: the best explanation of this behaviour near 1, the worst near 0, ties
allowed. The answer format is the JSON of :mod:`intentkg.judge.schema`. One worked example comes
first, because small local models copy a shown format far more reliably than a described one.
Chat models get system + user messages; plain (base) models get the same text as a completion
prompt that already opens the JSON answer. A retry adds the previous answer's format error.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from intentkg.annotate.display import relation_phrase

VERSION = "judge-v3"
SYSTEM = ("You judge explanations of why a customer bought something. You are strict, brief and "
          "answer with JSON only.")
RUBRIC = ("Score every explanation from 0 to 1, relative to the others in this list: 1 = a plausible, "
          "typical reason for this behaviour that says more than the product title; 0 = wrong, "
          "unrelated, incomplete, or just restating the product. Ties are allowed.")
TOKENS_PER_ITEM, TOKENS_FIXED = 40, 24


@dataclass(frozen=True)
class Candidate:
    candidate_id: str
    relation: str
    tail: str


@dataclass(frozen=True)
class Group:
    """Candidates explaining the same behaviour (same head)."""

    group_id: str
    kind: str
    head: str
    candidates: tuple[Candidate, ...]


EXAMPLE = Group("example", "search_buy", "rain jacket for hiking -> Men's Waterproof Shell Jacket", (
    Candidate("e1", "used_for_event", "hiking in the rain"),
    Candidate("e2", "used_for_audience", "newborn babies"),
    Candidate("e3", "is_a", "a jacket"),
))
EXAMPLE_ANSWER = {"scores": [{"id": 1, "score": 0.9, "reason": "typical use"},
                             {"id": 2, "score": 0.0, "reason": "unrelated"},
                             {"id": 3, "score": 0.2, "reason": "restates the product"}]}


def behaviour_line(group: Group) -> str:
    if group.kind == "search_buy" and " -> " in group.head:
        query, product = group.head.split(" -> ", 1)
        return f'A customer searched for "{query}" and bought "{product}".'
    if group.kind == "co_buy" and " + " in group.head:
        left, right = group.head.split(" + ", 1)
        return f'A customer bought "{left}" together with "{right}".'
    return f"Behaviour: {group.head}"


def task_text(group: Group) -> str:
    lines = [behaviour_line(group), "Explanations (the product is ...):"]
    for i, c in enumerate(group.candidates, start=1):
        lines.append(f"{i}. {relation_phrase(c.relation)} {' '.join(c.tail.split())}")
    return "\n".join(lines)


def example_for(group: Group) -> tuple[Group, dict]:
    """The worked example, its candidates rotated by the group's id: a model that copies the example's
    scores then copies a different order each time instead of one constant pattern."""
    shift = int(hashlib.sha256(group.group_id.encode()).hexdigest(), 16) % len(EXAMPLE.candidates)
    order = list(range(len(EXAMPLE.candidates)))
    order = order[shift:] + order[:shift]
    example = Group(EXAMPLE.group_id, EXAMPLE.kind, EXAMPLE.head, tuple(EXAMPLE.candidates[i] for i in order))
    answer = {"scores": [dict(EXAMPLE_ANSWER["scores"][i], id=k + 1) for k, i in enumerate(order)]}
    return example, answer


def user_text(group: Group, error: str | None = None) -> str:
    ids = ", ".join(str(i) for i in range(1, len(group.candidates) + 1))
    example, answer = example_for(group)
    lines = [RUBRIC, "Answer with JSON only, in the format of the example.",
             "", "Example:", task_text(example), "Answer: " + json.dumps(answer), "",
             "Now this one:", task_text(group), f"Score ids {ids}."]
    if error:
        lines.append(f"Your previous answer was not usable ({error}). Answer again with valid JSON only.")
    return "\n".join(lines)


def messages(group: Group, error: str | None = None) -> tuple[dict[str, str], ...]:
    return ({"role": "system", "content": SYSTEM}, {"role": "user", "content": user_text(group, error)})


def plain_prompt(group: Group, error: str | None = None) -> str:
    return f"{SYSTEM}\n\n{user_text(group, error)}\nAnswer: {plain_prefix()}"


def plain_prefix() -> str:
    """What :func:`plain_prompt` already wrote of the answer; prepended before parsing."""
    return '{"scores": [{"id": 1, "score": '


def max_tokens(group: Group, cap: int) -> int:
    """Enough tokens for one short entry per candidate, never more than ``cap``."""
    return min(cap, TOKENS_FIXED + TOKENS_PER_ITEM * len(group.candidates))
