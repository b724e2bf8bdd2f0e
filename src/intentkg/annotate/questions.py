"""The five yes/no questions of COSMO's annotation protocol, with the wording annotators see."""

from __future__ import annotations

from dataclasses import dataclass

from intentkg.schemas import ANNOTATION_QUESTIONS


@dataclass(frozen=True)
class Question:
    name: str
    text: str
    help: str


QUESTIONS: tuple[Question, ...] = (
    Question("completeness", "Is the explanation a complete, well-formed statement?",
             "No for cut-off sentences, fragments, or text that is not an explanation at all."),
    Question("relevance", "Is it about this behaviour (these products, this query)?",
             "No when it talks about something else than what was searched or bought."),
    Question("informativeness", "Does it say more than the product or query already says?",
             "No for restating the title ('because it is a watch'), circular or generic reasons."),
    Question("plausibility", "Is it plausible: could it be a true reason for this behaviour?",
             "Yes when a reasonable shopper could have this reason, even if it is not the usual one."),
    Question("typicality", "Is it typical: a common reason why people do this?",
             "'Tells time' is plausible for a smartwatch but not a typical reason to buy one."),
)

assert tuple(q.name for q in QUESTIONS) == ANNOTATION_QUESTIONS
NAMES = ANNOTATION_QUESTIONS


def parse_answer(value: object) -> bool | None:
    """yes/no, true/false, 1/0, y/n (any case) -> bool; empty or None -> None; else ValueError."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text == "":
        return None
    if text in ("yes", "y", "true", "t", "1"):
        return True
    if text in ("no", "n", "false", "f", "0"):
        return False
    raise ValueError(f"{value!r} is not a yes/no answer (use yes/no, true/false or 1/0)")
