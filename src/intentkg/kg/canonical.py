"""Canonical forms of intention texts, so that "Winter camping.", "winter  camping" and
"for winter campings" merge into one node.

Lower-case, punctuation and filler words stripped, whitespace collapsed, and the head word (the
last word of the phrase) singularised with simplemma's English lemmatiser. Only plural-looking
head words are changed: "camping" stays "camping", "mattresses" becomes "mattress".
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

_PUNCT = re.compile(r"[^\w\s'-]+")
_SPACE = re.compile(r"\s+")
_LEADING = ("because ", "they are ", "it is ", "used for ", "for ", "to ", "the ", "a ", "an ")


@lru_cache(maxsize=1)
def _lemmatizer():
    try:
        import simplemma
    except ImportError:  # pragma: no cover - simplemma is a core dependency
        return None
    return simplemma


def singular(word: str) -> str:
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    lemmatizer = _lemmatizer()
    if lemmatizer is not None:
        lemma = lemmatizer.lemmatize(word, lang="en")
        if lemma and lemma != word and len(lemma) >= len(word) - 3:
            return lemma
    return word[:-1]


def canonical(text: str | None) -> str:
    """The merge key of an intention text; '' when nothing is left."""
    if not text:
        return ""
    value = _SPACE.sub(" ", _PUNCT.sub(" ", text.lower())).strip(" '-")
    changed = True
    while changed:
        changed = False
        for prefix in _LEADING:
            if value.startswith(prefix) and len(value) > len(prefix):
                value, changed = value[len(prefix):], True
    words = value.split(" ")
    if words and words[-1]:
        words[-1] = singular(words[-1])
    return " ".join(words)


def node_id(kind: str, key: str) -> str:
    """Stable node id: products keep their id, other kinds hash their canonical text."""
    if kind == "product":
        return f"product:{key}"
    if kind == "behavior":
        return f"behavior:{key}"
    return f"{kind}:{hashlib.md5(key.encode()).hexdigest()[:16]}"
