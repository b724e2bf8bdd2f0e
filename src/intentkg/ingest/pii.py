"""Ingest's PII accounting: every query goes through :func:`intentkg.query_key.clean_query`, and
the totals (queries changed, spans by kind) go into the ingest manifest."""

from __future__ import annotations

from collections import Counter

from intentkg.pii import description
from intentkg.query_key import CleanQuery, clean_query


class Scrubber:
    """Cleans many queries and keeps totals for the manifest; ``enabled=False`` only normalises."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.totals: Counter = Counter()
        self.texts_changed = 0

    def clean(self, query: str | None) -> CleanQuery:
        cleaned = clean_query(query, scrub_pii=self.enabled)
        if cleaned.found:
            self.totals.update(dict(cleaned.found))
            self.texts_changed += 1
        return cleaned

    def summary(self) -> dict:
        return {"enabled": self.enabled, "queries_changed": self.texts_changed, "by_kind": dict(self.totals),
                **({"scrubber": description()} if self.enabled else {})}
