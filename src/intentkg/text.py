"""Word-level text normalisation: one definition of "the same words" for the filter and product types."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def normalize(text: str | None) -> str:
    """Lower-case, Unicode NFKC, punctuation to spaces, single spaces. Works for any script."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).lower().replace("_", " ")
    return " ".join(_NON_WORD.sub(" ", text).split())


@lru_cache(maxsize=1 << 16)
def singular(word: str) -> str:
    """A crude English singular, enough to see 'tents' and 'tent' as one word."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def relation_text(relation: str) -> str:
    """'used_for_event' -> 'used for event'; 'xWant' -> 'x want'."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", relation)
    return " ".join(spaced.replace("_", " ").lower().split())
