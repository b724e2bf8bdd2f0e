"""Nearest cached query for a miss, by word overlap (Jaccard), rebuilt when the snapshot changes.

Cheap enough for the request path: a token -> keys inverted index over the cached queries; a miss
is answered with the best match's knowledge, flagged ``source: nearest`` with the matched query.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable

MAX_CANDIDATES = 2_000
STOP = {"for", "the", "a", "an", "and", "of", "to", "with", "in", "on", "my", "best", "set"}


def _tokens(text: str) -> set[str]:
    return {t for t in text.split() if t not in STOP and len(t) > 1}


class NearestQueries:
    def __init__(self, min_jaccard: float = 0.34):
        self.min_jaccard = min_jaccard
        self._index: dict[str, list[str]] = {}
        self._tokens: dict[str, set[str]] = {}
        self.version: str | None = None
        self._lock = threading.Lock()

    def rebuild(self, queries: Iterable[str], version: str | None) -> None:
        index: dict[str, list[str]] = defaultdict(list)
        tokens: dict[str, set[str]] = {}
        for query in queries:
            tokens[query] = _tokens(query)
            for token in tokens[query]:
                index[token].append(query)
        with self._lock:
            self._index, self._tokens, self.version = dict(index), tokens, version

    def find(self, query: str) -> tuple[str, float] | None:
        wanted = _tokens(query)
        if not wanted:
            return None
        index, tokens = self._index, self._tokens
        scores: dict[str, int] = defaultdict(int)
        for token in wanted:
            for other in index.get(token, ())[:MAX_CANDIDATES]:
                scores[other] += 1
        best, best_score = None, 0.0
        for other, shared in scores.items():
            score = shared / len(wanted | tokens[other])
            if score > best_score or (score == best_score and best is not None and other < best):
                best, best_score = other, score
        if best is None or best_score < self.min_jaccard:
            return None
        return best, best_score
