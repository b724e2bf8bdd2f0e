"""Replace personal data in a query by placeholders: ``[EMAIL]``, ``[PHONE]``, ``[CARD]``, ``[SSN]``,
``[IP]``, ``[ADDRESS]`` (street addresses and PO boxes), ``[NUMBER]`` (account, order, tracking
numbers) and ``[PERSON]`` (a self-named person; any person with a model, see
:mod:`intentkg.pii.engine`)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from intentkg.pii.engine import OUR_ENTITIES, PRESIDIO_ENTITIES, analyzer, model_setting
from intentkg.pii.vocabulary import DIRECTIONS, STREET_TYPES

PLACEHOLDERS = {"EMAIL_ADDRESS": "EMAIL", "CREDIT_CARD": "CARD", "US_SSN": "SSN", "PHONE_NUMBER": "PHONE",
                "IP_ADDRESS": "IP", "STREET_ADDRESS": "ADDRESS", "PO_BOX": "ADDRESS", "ACCOUNT_NUMBER": "NUMBER",
                "PERSON": "PERSON"}
# What every recogniser needs before it can match; a text with none of these is left alone without
# running the analyzer (most product queries, digits or not), unless a model may find names anywhere:
# an "@" (e-mail), "name" (a self-named person), 6+ digits in one run of digits and separators
# (phone, card, SSN, account), a dotted quad or two colons (IP), "box" (PO box), a UPS tracking id,
# or a number followed within a few words by a street type or a compass direction (address).
_WORDS = "|".join(sorted(map(re.escape, STREET_TYPES | DIRECTIONS), key=len, reverse=True))
_MAYBE = re.compile(
    r"@|name|box|1z[0-9a-z]{16}|\d(?:[\s.\-()/+]*\d){5,}|\d+\.\d+\.\d+\.\d+|[0-9a-f]*:[0-9a-f]*:"
    rf"|\d{{1,6}}[a-z]?\s+(?:\S+\s+){{0,5}}?(?:{_WORDS})\b", re.IGNORECASE)


@dataclass
class ScrubResult:
    text: str
    found: Counter = field(default_factory=Counter)

    @property
    def redactions(self) -> int:
        return sum(self.found.values())


def scrub(text: str) -> ScrubResult:
    """Return ``text`` with personal data replaced and a count of what was found, by kind."""
    model = model_setting()
    if not text or (not model and not _MAYBE.search(text)):
        return ScrubResult(text)
    from intentkg.pii.recognisers import tokens  # Presidio and spaCy load on the first text that may hold PII
    from intentkg.pii.rules import keep, resolve

    results = analyzer(model).analyze(text, language="en", entities=PRESIDIO_ENTITIES + OUR_ENTITIES)
    toks = tokens(text)
    spans = resolve([r for r in results if keep(r, text, toks)])
    found: Counter = Counter()
    out, last = [], 0
    for r in spans:
        kind = PLACEHOLDERS[r.entity_type]
        found[kind] += 1
        out += [text[last:r.start], f"[{kind}]"]
        last = r.end
    out.append(text[last:])
    return ScrubResult("".join(out), found)
