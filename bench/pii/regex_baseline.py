"""The regex scrubber intentkg used before Presidio, kept unchanged as bench_pii.py's baseline (not part
of the package).

Replaces e-mail addresses, payment card numbers (Luhn-checked), phone numbers, street addresses
and long digit runs with placeholders such as ``[EMAIL]``. Product model numbers and sizes
("iphone 15 pro", "65 inch", "2x4", "4k") are left alone.
"""

from __future__ import annotations

import re
from collections import Counter

from intentkg.pii.scrub import ScrubResult  # the same result type as the scrubber it is compared with

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# 13-19 digits, optionally grouped by spaces or dashes.
_CARD = re.compile(r"(?<![\d])(?:\d[ \-]?){12,18}\d(?![\d])")
# +1 (555) 867-5309, 555-867-5309, 555.867.5309, +44 20 7946 0958, 5558675309
_PHONE = re.compile(
    r"(?<![\w])(?:\+\d{1,3}[\s.\-]?)?(?:\(\d{2,4}\)[\s.\-]?|\d{2,4}[\s.\-])\d{3,4}[\s.\-]?\d{3,4}(?![\w])"
    r"|(?<![\w])\+\d{9,14}(?![\w])"
)
# Full street words anywhere; short forms ("st", "dr") only before a period, comma or the end,
# so "2 pack st patricks day" stays as it is.
_STREET_WORDS = r"street|avenue|road|boulevard|lane|drive|place|terrace|parkway|circle|highway"
_STREET_ABBREV = r"st|ave|rd|blvd|ln|dr|ct|pl|pkwy|cir|hwy"
_ADDRESS = re.compile(
    rf"(?<![\w])\d{{1,6}}[A-Za-z]?\s+(?:[A-Za-z0-9'\-]+\s+){{1,4}}"
    rf"(?:(?:{_STREET_WORDS})(?![\w])|(?:{_STREET_ABBREV})(?:\.|(?=,)|(?=\s+(?:nw|ne|sw|se|n|s|e|w)\b)|$))"
    rf"(?:\s*,?\s*(?:apt|unit|suite|#)\s*\w+)?",
    re.IGNORECASE,
)
_SSN = re.compile(r"(?<![\d\-])\d{3}-\d{2}-\d{4}(?![\d\-])")
_LONG_DIGITS = re.compile(r"(?<![\d])\d{7,}(?![\d])")


def _luhn_ok(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def scrub(text: str) -> ScrubResult:
    """Return ``text`` with PII replaced and a count of what was found, by kind."""
    found: Counter = Counter()

    def sub(pattern: re.Pattern, token: str, value: str, check=None) -> str:
        def repl(match: re.Match) -> str:
            if check is not None and not check(match.group(0)):
                return match.group(0)
            found[token] += 1
            return f"[{token}]"

        return pattern.sub(repl, value)

    out = sub(_EMAIL, "EMAIL", text)
    out = sub(_CARD, "CARD", out, check=lambda s: _luhn_ok(re.sub(r"\D", "", s)))
    out = sub(_SSN, "SSN", out)
    out = sub(_PHONE, "PHONE", out)
    out = sub(_ADDRESS, "ADDRESS", out)
    out = sub(_LONG_DIGITS, "NUMBER", out)
    return ScrubResult(out, found)
