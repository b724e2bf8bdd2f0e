"""Tails copied from the prompt's own worked answers, and whether a behaviour's words support a tail.

A small model shown "a birthday party" as a worked answer repeats it for dog collars and knife sets.
``CopyChecker`` matches a tail against the worked answers its prompt showed (the candidate's
``shown_examples``, recorded by generate for any template; for candidates generated before that
was recorded, the relation's default shots), exactly or nearly (after
:func:`~intentkg.filter.text.core`: within a small edit distance, or one phrase inside the other
with at most ``max_extra_words`` words around it).

A copy is still knowledge when the behaviour itself names it: "a birthday party" for a search for
"birthday candles" shares the stem "birthday" with its behaviour and is not flagged. ``stems`` is
the crude stemmer both checks use ("camping" and "camp", "cooker" and "cooking" meet).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from intentkg.filter.text import core, normalize

_SUFFIXES = ("ings", "ing", "ers", "er", "ied", "ies", "ed", "es", "s")
STOP_WORDS = frozenset("""
    a an the and or of to for with in on at by from as is are be it its this that these those their
    his her your my our they them he she you we i so very just also both all any some other same
    use used using uses get make go do can will would should like want need one ones thing things
    product products item items customer customers people person someone something
""".split())


@lru_cache(maxsize=1 << 17)
def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=1 << 16)
def stems(text: str | None) -> frozenset[str]:
    """Content-word stems of a text ("Walking the dogs" -> {"walk", "dog"})."""
    return frozenset(_stem(w) for w in normalize(text).split() if w not in STOP_WORDS and len(w) > 1)


def supported(tail: str | None, *sources: str | None) -> bool:
    """Does the tail share a content-word stem with any of the behaviour's texts?"""
    words = stems(tail)
    return bool(words) and any(words & stems(s) for s in sources if s)


def _phrases(words: list[str], min_words: int) -> Iterable[str]:
    for i in range(len(words)):
        for j in range(i + min_words, len(words) + 1):
            yield " ".join(words[i:j])


class ExampleSet:
    """Worked answers one prompt showed; ``match`` finds the one a tail copies."""

    def __init__(self, example_tails: Iterable[str], max_edit_ratio: float = 0.15, max_extra_words: int = 2):
        self.max_edit_ratio = max_edit_ratio
        self.max_extra_words = max_extra_words
        self.examples: dict[str, str] = {}  # example key -> the example as written
        for tail in example_tails:
            key = core(normalize(tail))
            if key:
                self.examples.setdefault(key, tail)
        self._parts: dict[str, str] = {}  # 2+ word phrase inside an example -> that example's key
        for key in self.examples:
            for phrase in _phrases(key.split(), 2):
                self._parts.setdefault(phrase, key)

    def match(self, key: str) -> str | None:
        """The worked answer (as written) that ``key`` (a core tail) copies, or None."""
        if key in self.examples:
            return self.examples[key]
        allowed = int(len(key) * self.max_edit_ratio)
        for other, written in self.examples.items():
            if allowed and abs(len(other) - len(key)) <= allowed and \
                    Levenshtein.distance(key, other, score_cutoff=allowed) <= allowed:
                return written
        words = key.split()
        if len(words) >= 2 and key in self._parts:  # the tail is a phrase of an example
            return self.examples[self._parts[key]]
        for phrase in _phrases(words, max(2, len(words) - self.max_extra_words)):
            if phrase in self.examples:  # an example inside the tail, with few words around it
                return self.examples[phrase]
        return None


class CopyChecker:
    """Copies per prompt: one :class:`ExampleSet` per distinct list of shown examples (few per run)."""

    def __init__(self, max_edit_ratio: float = 0.15, max_extra_words: int = 2):
        self.max_edit_ratio, self.max_extra_words = max_edit_ratio, max_extra_words
        self._sets: dict[tuple[str, ...], ExampleSet] = {}

    def match(self, key: str, shown: Sequence[str]) -> str | None:
        shown = tuple(shown)
        if not shown:
            return None
        examples = self._sets.get(shown)
        if examples is None:
            if len(self._sets) > 10_000:
                self._sets.clear()
            examples = self._sets[shown] = ExampleSet(shown, self.max_edit_ratio, self.max_extra_words)
        return examples.match(key)
