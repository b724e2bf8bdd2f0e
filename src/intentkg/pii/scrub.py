"""Replace personal data in a query by placeholders: ``[EMAIL]``, ``[PHONE]``, ``[CARD]``, ``[SSN]``,
``[IP]``, ``[ADDRESS]`` (street addresses and PO boxes), ``[NUMBER]`` (account, order, tracking
numbers) and ``[PERSON]`` (a self-named person; any person with a model, see
:mod:`intentkg.pii.engine`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from intentkg.pii.engine import OUR_ENTITIES, PRESIDIO_ENTITIES, analyzer, model_setting
from intentkg.pii.precheck import may_hold_pii

PLACEHOLDERS = {"EMAIL_ADDRESS": "EMAIL", "CREDIT_CARD": "CARD", "US_SSN": "SSN", "PHONE_NUMBER": "PHONE",
                "IP_ADDRESS": "IP", "STREET_ADDRESS": "ADDRESS", "PO_BOX": "ADDRESS", "ACCOUNT_NUMBER": "NUMBER",
                "PERSON": "PERSON"}


@dataclass
class ScrubResult:
    text: str
    found: Counter = field(default_factory=Counter)

    @property
    def redactions(self) -> int:
        return sum(self.found.values())


def needs_analyzer(text: str, model: str) -> bool:
    """Whether the analyzer must look at ``text``: a text with nothing any recogniser needs is left
    alone (most product queries, digits or not), unless a model may find names anywhere."""
    return bool(text) and (bool(model) or may_hold_pii(text))


def scrub(text: str, model: str | None = None) -> ScrubResult:
    """Return ``text`` with personal data replaced and a count of what was found, by kind.
    ``model``: the model setting (:func:`intentkg.pii.engine.model_setting`, read when None)."""
    model = model_setting() if model is None else model
    if not needs_analyzer(text, model):
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
