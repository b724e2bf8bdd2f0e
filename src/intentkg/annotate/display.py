"""How a candidate reads to a person: relation names as words, the behaviour as a sentence."""

from __future__ import annotations

_PHRASES = {
    "used_for_function": "used for", "used_for_event": "used for the event", "used_for_audience": "used by / for",
    "used_in_location": "used in", "used_in_body": "used on / for (body)", "used_with": "used with",
    "xis_a": "the customer is a", "xwant": "the customer wants to", "xinterested_in": "the customer is interested in",
    "capable_of": "capable of", "is_a": "is a", "used_as": "used as", "used_on": "used on", "used_by": "used by",
    "used_to": "used to",
}


def relation_phrase(relation: str | None) -> str:
    """'used_for_event' -> 'used for the event'; unknown relations lose their underscores."""
    if not relation:
        return ""
    key = relation.strip().lower().replace(" ", "_")
    return _PHRASES.get(key, relation.replace("_", " "))
