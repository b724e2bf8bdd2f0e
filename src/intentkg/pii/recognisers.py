"""Presidio recognisers for what Presidio's own pattern recognisers do not cover in search queries:
street addresses and PO boxes, phone numbers by their shape, account numbers by their context, and
a person who names themself. Each returns :class:`presidio_analyzer.RecognizerResult` spans; the
engine (:mod:`intentkg.pii.engine`) runs them beside Presidio's e-mail, card, SSN, IP and phone
recognisers and :mod:`intentkg.pii.rules` decides which spans stay.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
import tldextract

from intentkg.pii.presidio import EmailRecognizer, LocalRecognizer, PhoneRecognizer, RecognizerResult, UsSsnRecognizer
from intentkg.pii.vocabulary import (ADDRESS_CONTEXT, DIRECTIONS, PHONE_CONTEXT, PHONE_NUMBER_OWNERS, PRODUCT_WORDS,
                                     STREET_ABBREVIATIONS, STREET_TYPES, STREET_TYPES_STRONG, UNIT_DESIGNATORS,
                                     UNITS, US_STATES)


class Token(NamedTuple):
    start: int
    end: int
    word: str  # lower-cased, trailing "." and "," removed
    punct: bool  # the token ended in "," or "."


_TOKEN = re.compile(r"[^\s()\[\]{};:]+")
_HOUSE_NUMBER = re.compile(r"\d{1,6}[a-z]?|\d{1,5}-\d{1,4}")
_NAME = re.compile(r"[a-z][a-z'\-]*|\d+(?:st|nd|rd|th)")
_ZIP = re.compile(r"\d{5}(?:-\d{4})?")


@lru_cache(maxsize=4096)
def tokens(text: str) -> tuple[Token, ...]:
    """Whitespace tokens of ``text`` (each recogniser and the rules ask for the same text's tokens)."""
    out = []
    for m in _TOKEN.finditer(text):
        raw = m.group(0)
        word = raw.rstrip(".,").lower()
        end = m.start() + len(raw.rstrip(".,")) if word else m.end()
        out.append(Token(m.start(), end, word or raw.lower(), raw != raw.rstrip(".,")))
    return tuple(out)


def context_before(toks: tuple[Token, ...], i: int, words: frozenset[str], window: int = 3) -> bool:
    return any(t.word in words for t in toks[max(0, i - window):i])


def phone_context(toks: tuple[Token, ...], i: int, window: int = 4) -> bool:
    """A phone word ("call", "text", "whatsapp", ...) or "my number" within ``window`` tokens before ``i``."""
    start = max(0, i - window)
    return context_before(toks, i, PHONE_CONTEXT, window) or any(
        toks[j].word == "number" and j > 0 and toks[j - 1].word in PHONE_NUMBER_OWNERS for j in range(start, i))


class _Recogniser(LocalRecognizer):
    ENTITY = ""

    def __init__(self):
        super().__init__(supported_entities=[self.ENTITY], supported_language="en", name=type(self).__name__)

    def load(self) -> None:
        pass

    def result(self, start: int, end: int, score: float) -> RecognizerResult:
        # the identifier is how Presidio's context step matches a result to its recogniser
        return RecognizerResult(self.ENTITY, start, end, score, recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: self.name, RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id})


class StreetAddressRecognizer(_Recogniser):
    """A house number, a street name and a street type in address position ("42 elm street",
    "12 oak rd, springfield"), or a house number, a compass direction and a name with no type
    ("4521 n broadway"). A number followed by a unit ("1 tb hard drive", "8 ft circle rug",
    "90 degree street elbow") or a product word before a weak type ("128 gb usb flash drive",
    "4 wheel drive") is never an address."""

    ENTITY = "STREET_ADDRESS"

    def analyze(self, text, entities, nlp_artifacts=None):
        toks = tokens(text)
        out = []
        for i, tok in enumerate(toks):
            if not _HOUSE_NUMBER.fullmatch(tok.word) or i + 1 >= len(toks) or toks[i + 1].word in UNITS - DIRECTIONS:
                continue
            context = context_before(toks, i, ADDRESS_CONTEXT) or (i > 0 and toks[i - 1].word in ("to", "at"))
            found = self._with_type(toks, i, context) or self._with_direction(toks, i, context)
            if found is not None:
                out.append(self.result(tok.start, toks[found].end, 0.85))
        return out

    def _with_type(self, toks: tuple[Token, ...], i: int, context: bool) -> int | None:
        j = i + 1
        direction = toks[j].word in DIRECTIONS and j + 1 < len(toks)
        if direction:
            j += 1
        for k in range(j + 1, min(j + 5, len(toks))):  # 1-4 name words, then the type
            kind = toks[k].word
            names = [t.word for t in toks[j:k]]
            if any(not _NAME.fullmatch(n) or n in UNITS or n in STREET_TYPES for n in names) or toks[k - 1].punct:
                return None
            if kind not in STREET_TYPES:
                continue
            digits = len(re.sub(r"\D", "", toks[i].word))
            position = self._address_position(toks, k)
            if kind in STREET_ABBREVIATIONS:
                ok = position or context
            elif kind in STREET_TYPES_STRONG:
                ok = digits >= 2 or direction or context
            else:  # weak: drive, lane, court, place, way, ...
                ok = not any(n in PRODUCT_WORDS for n in names) and (context or direction or (position and digits >= 2))
            return self._with_unit(toks, k) if ok else None
        return None

    @staticmethod
    def _address_position(toks: tuple[Token, ...], k: int) -> bool:
        """The street type ends the query or a clause, or an apartment, a direction, a state or a
        ZIP code follows it."""
        if toks[k].punct or k + 1 == len(toks):
            return True
        after = toks[k + 1].word
        return (after in DIRECTIONS or after in UNIT_DESIGNATORS or after.startswith("#") or after in US_STATES
                or bool(_ZIP.fullmatch(after)))

    @staticmethod
    def _with_unit(toks: tuple[Token, ...], k: int) -> int:
        """Extend over "apt 4b", "suite 200", "#12"."""
        if k + 1 < len(toks) and toks[k + 1].word.startswith("#") and len(toks[k + 1].word) > 1:
            return k + 1
        if k + 2 < len(toks) and toks[k + 1].word in UNIT_DESIGNATORS and re.fullmatch(r"#?[0-9a-z\-]{1,6}",
                                                                                        toks[k + 2].word):
            return k + 2
        return k

    @staticmethod
    def _with_direction(toks: tuple[Token, ...], i: int, context: bool) -> int | None:
        """"4521 n broadway": a house number (3+ digits unless an address word came before), a
        direction (e / w, which are also units, only with address context) and a name word."""
        if i + 2 >= len(toks) or not (context or toks[i].word[:3].isdigit()):
            return None
        direction, name = toks[i + 1].word, toks[i + 2].word
        if direction not in DIRECTIONS or (direction in ("e", "w") and not context):
            return None
        if not re.fullmatch(r"[a-z][a-z'\-]+", name) or name in UNITS or name in PRODUCT_WORDS or name in _STOP:
            return None
        return i + 2


_STOP = frozenset("and or for with to of the a an in on by from at x".split())


class PoBoxRecognizer(_Recogniser):
    """"po box 4471", "p.o. box 12", "post office box 9"."""

    ENTITY = "PO_BOX"
    PATTERN = re.compile(r"\b(?:p\.?\s?o\.?|post\s+office)\s*box\s*#?\s*\d{1,6}\b", re.IGNORECASE)

    def analyze(self, text, entities, nlp_artifacts=None):
        return [self.result(m.start(), m.end(), 0.9) for m in self.PATTERN.finditer(text)]


SSN_CONTEXT = frozenset(UsSsnRecognizer.CONTEXT)


class GatedPhoneRecognizer(PhoneRecognizer):
    """Presidio's phonenumbers recogniser, run only where a number can count as a phone without a
    North American shape: after a "+" or a phone word (it is most of the scrubber's time otherwise)."""

    def analyze(self, text, entities, nlp_artifacts=None):
        toks = tokens(text)
        if "+" not in text and not phone_context(toks, len(toks), len(toks)):
            return []
        return super().analyze(text, entities, nlp_artifacts)


class PhoneShapeRecognizer(_Recogniser):
    """North American numbers by their shape ("555-867-5309", "(212) 555-0199", "+1 415.555.0100"),
    whether or not the exchange is assigned; bare digit runs ("5558675309", "867-5309") only after a
    phone word ("call", "text", "whatsapp", ...). International numbers come from Presidio's
    phonenumbers-based recogniser."""

    ENTITY = "PHONE_NUMBER"
    SHAPED = re.compile(r"(?<![\w+\-.])(?:\+?1[\s.\-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.\-])\d{3}[\s.\-]\d{4}(?![\w\-]|\.\d)")
    BARE = re.compile(r"(?<![\w+\-.])(?:\+?\d{10,13}|\d{3}[\s.\-]\d{4})(?![\w\-]|\.\d)")
    INTERNATIONAL = re.compile(r"(?<![\w+])\+\d{1,3}(?:[\s.\-]?\(?\d{1,5}\)?){2,6}(?![\w\-]|\.\d)")

    def analyze(self, text, entities, nlp_artifacts=None):
        out = [self.result(m.start(), m.end(), 0.7) for m in self.SHAPED.finditer(text)]
        for m in self.INTERNATIONAL.finditer(text):  # "+44 7700 900123": a possible number, assigned or not
            try:
                possible = phonenumbers.is_possible_number(phonenumbers.parse(m.group(0)))
            except phonenumbers.NumberParseException:
                possible = False
            if possible:
                out.append(self.result(m.start(), m.end(), 0.65))
        toks = tokens(text)
        starts = {t.start: i for i, t in enumerate(toks)}
        for m in self.BARE.finditer(text):
            i = starts.get(m.start())
            if i is not None and phone_context(toks, i):
                out.append(self.result(m.start(), m.end(), 0.6))
        return out


class AccountNumberRecognizer(_Recogniser):
    """Digit runs of 6 or more right after an account word: "account 0012345678", "tracking #
    1Z999...", "order number 112-3344556-7788". A product code ("order sku 1000-045-993") is not one."""

    ENTITY = "ACCOUNT_NUMBER"
    PATTERN = re.compile(
        r"\b(?:account|acct|routing|tracking|confirmation|invoice|member|membership|customer|policy|passport|"
        r"licen[cs]e|order)\s*(?:number|num|no\.?|id|#)?\s*[:#]?\s*(\d[\d\- ]{4,22}\d|1z[0-9a-z]{16})\b", re.IGNORECASE)

    def analyze(self, text, entities, nlp_artifacts=None):
        out = []
        for m in self.PATTERN.finditer(text):
            if sum(c.isdigit() for c in m.group(1)) >= 6:
                out.append(self.result(m.start(1), m.end(1), 0.8))
        return out


class SelfNamedPersonRecognizer(_Recogniser):
    """"my name is jane doe": the one person-name pattern that needs no model."""

    ENTITY = "PERSON"
    PATTERN = re.compile(r"\b(?:my name is|my name's|name:)\s+([a-z][a-z'\-]+(?:\s+[a-z][a-z'\-]+)?)", re.IGNORECASE)

    def analyze(self, text, entities, nlp_artifacts=None):
        return [self.result(m.start(1), m.end(1), 0.85) for m in self.PATTERN.finditer(text)]


_OFFLINE_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)  # the bundled suffix list, no download


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recogniser with the public-suffix check on the bundled list (its default
    fetches the list over the network on first use)."""

    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_TLD(pattern_text).fqdn != ""
