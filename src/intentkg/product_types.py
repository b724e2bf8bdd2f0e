"""A product's type when the catalogue gives none: a short noun phrase taken from its title.

Catalogues such as ESCI have titles but no product type, while the filter (generic tails, product
restatements) and type-level generation need one. ``title_type`` keeps the first part of the title
(before a comma, bar, bracket, " - ", " with ", " for " ...), drops words with digits, units, pack
words, colours and sizes, and returns its last two words, singular::

    title_type("Retractable Dog Leash 16 ft, Heavy Duty")      -> "dog leash"
    title_type("Gold Number Candles 0-9 Cake Topper")         -> "cake topper"
    title_type("Silicone Baby Bibs Set of 3")                 -> "baby bib"

``head_noun`` is its last word ("leash", "topper"): the coarse type used to tell whether the
products a tail is attached to are of one kind or of many. A brand that leads the title is mostly
cut off by keeping the last words; a title made only of codes gives "".
"""

from __future__ import annotations

import re
from functools import lru_cache

from intentkg.text import normalize, singular

_SEGMENT = re.compile(r"\s*(?:[,|;:()\[\]{}/]| - | \u2013 | \u2014 | with | for | featuring | includes? )\s*",
                      re.IGNORECASE)
_DROP = frozenset("""
    oz ounce ounces fl ml l liter liters litre litres gallon gallons qt quart quarts lb lbs pound pounds kg g gram
    grams mg inch inches in ft feet foot cm mm m meter meters yard yards mah v volt watt w hz gb tb mb
    pack packs pk count ct pcs pc piece pieces set sets kit bundle lot pair pairs case box boxes bulk of x
    black white red blue green yellow pink purple orange brown grey gray silver gold beige navy clear multicolor
    small medium large xl xxl xs s m l extra mini big
    new upgraded upgrade premium professional pro original authentic genuine best quality
    and or the a an our your my
""".split())


@lru_cache(maxsize=1 << 16)
def title_type(title: str | None, words: int = 2) -> str:
    """The last ``words`` meaningful words of the title's first part, singular ("" when none)."""
    for segment in _SEGMENT.split(str(title or "")):
        kept = [w for w in normalize(segment).split()
                if w not in _DROP and not any(ch.isdigit() for ch in w) and len(w) > 1]
        if kept:
            return " ".join(singular(w) for w in kept[-words:])
    return ""


def head_noun(title: str | None) -> str:
    """The last word of :func:`title_type`: "leash" for a dog leash ("" when the title has none)."""
    found = title_type(title)
    return found.rsplit(" ", 1)[-1] if found else ""


def product_type(declared: str | None, title: str | None) -> str:
    """The catalogue's product type when it has one, else the one taken from the title."""
    declared = " ".join(str(declared or "").split())
    return normalize(declared) if declared else title_type(title)
