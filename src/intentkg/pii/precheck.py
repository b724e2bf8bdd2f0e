"""The cheap test that proves a text holds nothing any PII recogniser could match, so that the
analyzer (Presidio, ~0.5 ms) runs only on texts that may hold personal data.

A recogniser needs one of: an "@" (e-mail), "name" (a self-named person), "box" (PO box), a UPS
tracking id ("1z" and 16 letters or digits), 6+ digits in one run of digits and separators (phone,
card, SSN, account), a dotted quad, two colons with only hex digits between them (IP v6), or a
number followed within six words by a street type or a compass direction (address).

This is the test the one regular expression of the first version made (``REFERENCE`` in
tests/pii/test_precheck.py, which checks that the two agree), in time linear in the text: that
expression backtracked quadratically on runs of hex letters (``"a" * 500`` took 3.5 ms, on the
request path of ``serve``), tried every street type at every digit, and cost 4-6 µs on a plain
query without digits. Each part below holds exactly when the matching part of the old expression
matched somewhere (``\\d{1,6}x`` somewhere is ``\\d x`` somewhere; case-insensitive matching is the
regular expression engine's, Unicode included); the address part looks at the six words after each
number instead of backtracking over them.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from intentkg.pii.vocabulary import DIRECTIONS, STREET_TYPES

ADDRESS_WORDS = 6  # the street type may be any of the six words after the house number


def _trie(words: list[str]) -> str:
    """A regular expression for ``words`` that shares their prefixes (one pass over a word, not one per word)."""
    if words == [""]:
        return ""
    heads: dict[str, list[str]] = {}
    for word in words:
        heads.setdefault(word[:1], []).append(word[1:])
    branches = [re.escape(head) + _trie(sorted(rest)) for head, rest in sorted(heads.items()) if head]
    group = "(?:" + "|".join(branches) + ")"
    return group + "?" if "" in heads else group if len(branches) > 1 else branches[0]


_DIGIT = re.compile(r"\d")
_IPV6 = re.compile(r":[0-9a-f]*:", re.IGNORECASE)
# a tracking id, 6+ digits in one run of digits and separators, a dotted quad
_DIGIT_SHAPES = re.compile(r"(?i:1z[0-9a-z]{16})|\d(?:[\s.\-()/+]*\d){5}|\d\.\d+\.\d+\.\d")
_LETTER = re.compile(r"[a-z]", re.IGNORECASE)
_STREET = re.compile(_trie(sorted(STREET_TYPES | DIRECTIONS)) + r"\b", re.IGNORECASE)


def _house_number(word: str) -> bool:
    """Whether ``word`` ends as a house number does: a digit, or a digit and one letter ("12", "12b")."""
    if word[-1].isdecimal():
        return True
    return len(word) > 1 and word[-2].isdecimal() and _LETTER.fullmatch(word[-1]) is not None


def may_hold_pii(text: str) -> bool:
    """False only when no recogniser can match anything in ``text``."""
    if "@" in text or (":" in text and _IPV6.search(text)):
        return True
    lower = text.lower()
    if "name" in lower or "box" in lower:
        return True
    if not _DIGIT.search(text):  # every other shape starts with a digit
        return False
    if _DIGIT_SHAPES.search(text):
        return True
    words = text.split()  # the runs of \S, as the regular expression engine splits them
    houses = [i for i, word in enumerate(words[:-1]) if _house_number(word)]
    if not houses:
        return False
    streets = [i for i, word in enumerate(words) if i > houses[0] and _STREET.match(word)]
    for house in houses:  # a street type in one of the six words after a house number
        after = bisect_right(streets, house)
        if after < len(streets) and streets[after] <= house + ADDRESS_WORDS:
            return True
    return False
