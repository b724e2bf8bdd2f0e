"""Which misses may enter the refresh queue: real-looking keys, at a bounded rate per client.

The queue decides what the refresh job spends LLM time on, and clients choose the keys, so a key
is checked before it is queued (and again by the refresh, for keys queued before these checks):

- no control, format (zero-width, bidi override), private-use or unassigned characters;
- at least one letter or digit; at most ``MAX_KEY_CHARS`` characters and ``MAX_WORDS`` words;
  no word longer than ``MAX_WORD_CHARS``; no character repeated more than ``MAX_RUN`` times in a row.

A client (its address, kept only as a salted hash) may queue ``per_client_per_minute`` misses a
minute; the rest are still answered (with nothing) but not queued. Refusals are counted by
reason in ``/metrics``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
import unicodedata
from collections import Counter

MAX_KEY_CHARS = 200
MAX_WORDS = 24
MAX_WORD_CHARS = 40
MAX_RUN = 6
PER_CLIENT_PER_MINUTE = 60
_BAD_CATEGORIES = {"Cc", "Cf", "Co", "Cn", "Cs"}
_RUN = re.compile(r"(.)\1{%d,}" % MAX_RUN, re.DOTALL)


def junk_reason(key: str) -> str | None:
    """Why ``key`` ("q:..." or "p:...") should not be queued, or None when it may be."""
    kind, _, text = key.partition(":")
    if kind not in ("q", "p") or not text.strip():
        return "empty"
    if any(unicodedata.category(ch) in _BAD_CATEGORIES for ch in text):
        return "control_characters"
    if kind == "p":
        return None  # product ids are checked by the API's id pattern
    if len(text) > MAX_KEY_CHARS:
        return "too_long"
    if not any(ch.isalnum() for ch in text):
        return "no_letters_or_digits"
    words = text.split()
    if len(words) > MAX_WORDS or any(len(word) > MAX_WORD_CHARS for word in words):
        return "too_many_or_too_long_words"
    if _RUN.search(text):
        return "repeated_characters"
    return None


class MissAdmission:
    """Checks keys and rate-limits each client; thread-safe and cheap enough for the request path."""

    def __init__(self, per_client_per_minute: int = PER_CLIENT_PER_MINUTE, max_clients: int = 100_000,
                 salt: bytes | None = None):
        self.rate = per_client_per_minute
        self.max_clients = max_clients
        self._salt = salt or secrets.token_bytes(16)  # pass a stored salt to count clients across restarts
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, last time)
        self._lock = threading.Lock()
        self.refused: Counter = Counter()

    def client_id(self, address: str | None) -> str:
        """A salted hash of the client address (the queue never stores the address itself)."""
        return hashlib.blake2b((address or "-").encode(), key=self._salt, digest_size=8).hexdigest()

    def admit(self, key: str, client: str) -> bool:
        reason = junk_reason(key) or self._rate_limited(client)
        if reason:
            with self._lock:
                self.refused[reason] += 1
            return False
        return True

    def _rate_limited(self, client: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.rate), now))
            tokens = min(float(self.rate), tokens + (now - last) * self.rate / 60.0)
            if len(self._buckets) >= self.max_clients and client not in self._buckets:
                self._buckets.clear()  # bounded memory: forget every bucket rather than grow
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                return "client_rate_limit"
            self._buckets[client] = (tokens - 1.0, now)
            return None
