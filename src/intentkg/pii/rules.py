"""Which recognised spans are personal data in a product search: the context rules.

A span Presidio (or one of our recognisers) found is dropped when

- its score is below :data:`MIN_SCORE` (Presidio's weak patterns, such as any 9-digit run as an
  SSN, stay below it unless a context word such as "ssn" raised them);
- it is a number right after a product-code word ("sku", "upc", "model", "part", "filter", ...)
  or right before a unit ("ft", "gb", "pack", ...): sizes, capacities, SKUs, UPCs and model
  numbers stay;
- it is a phone number from Presidio's phonenumbers matcher with neither a leading "+" nor a
  phone word before it ("ge washer 041-868-025" is a part number); North American numbers by
  their shape come from :class:`~intentkg.pii.recognisers.PhoneShapeRecognizer`.
"""

from __future__ import annotations

from intentkg.pii.presidio import RecognizerResult
from intentkg.pii.recognisers import SSN_CONTEXT, Token, context_before, phone_context
from intentkg.pii.vocabulary import PHONE_CONTEXT, PRODUCT_CODE_WORDS, UNITS

MIN_SCORE = 0.4
NUMERIC = frozenset({"PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IP_ADDRESS"})
PERSONAL_CONTEXT = PHONE_CONTEXT | frozenset("ssn social security card visa mastercard amex ip".split())


def _token_at(toks: tuple[Token, ...], offset: int) -> int:
    for i, t in enumerate(toks):
        if t.end > offset:
            return i
    return len(toks)


def keep(result: RecognizerResult, text: str, toks: tuple[Token, ...]) -> bool:
    if result.score < MIN_SCORE:
        return False
    if result.entity_type not in NUMERIC:
        return True
    first, after = _token_at(toks, result.start), _token_at(toks, result.end)
    before = [t.word for t in toks[max(0, first - 2):first]]
    if any(w in PRODUCT_CODE_WORDS for w in before) and not any(w in PERSONAL_CONTEXT for w in before):
        return False
    if after < len(toks) and toks[after].start >= result.end and toks[after].word in UNITS:
        return False
    if result.entity_type == "PHONE_NUMBER" and (context_before(toks, first, SSN_CONTEXT, 4)
                                                  or sum(c.isdigit() for c in text[result.start:result.end]) < 7):
        return False  # "social security number 061116887" is the SSN recogniser's; no phone has < 7 digits
    recogniser = (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY)
    if result.entity_type == "PHONE_NUMBER" and recogniser == "GatedPhoneRecognizer":
        # a national number of another country ("020 7946 0958") needs a phone word before it:
        # without one, digit groups are part numbers ("ge washer 041-868-025")
        return text[result.start] == "+" or phone_context(toks, first)
    return True


def resolve(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Non-overlapping spans in text order; of overlapping spans the longest wins (then the higher
    score), so a card-like run inside a longer account number is replaced whole."""
    chosen: list[RecognizerResult] = []
    for r in sorted(results, key=lambda r: (-(r.end - r.start), -r.score, r.start)):
        if all(r.end <= c.start or r.start >= c.end for c in chosen):
            chosen.append(r)
    return sorted(chosen, key=lambda r: r.start)
