"""Text normalisation shared by the rules, generic-tail counts and dedup: one definition of "same text".

``normalize`` and ``singular`` live in :mod:`intentkg.text` (product types need them without the
filter package); ``core`` adds what the filter compares tails by.
"""

from __future__ import annotations

import re
from functools import lru_cache

from intentkg.text import normalize, relation_text, singular

__all__ = ["core", "normalize", "relation_text", "singular"]

_LEADING_FILLER = re.compile(
    r"^(?:(?:because|it is|it s|its|they are|this is|these are|both are|both|a|an|the|some|"
    r"(?:a )?(?:type|kind|sort|form) of)\s+)+")


@lru_cache(maxsize=1 << 16)
def core(normalized: str) -> str:
    """A normalised text without leading fillers ('it is a type of') and with singular words."""
    stripped = _LEADING_FILLER.sub("", normalized)
    return " ".join(singular(w) for w in (stripped or normalized).split())
