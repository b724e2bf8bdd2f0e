"""The one place a raw query becomes its key: PII scrubbed first, then normalised.

    clean_query("Call 555-867-5309  about Tents")
    # CleanQuery(text='Call [PHONE] about Tents', key='call [phone] about tents', found=(('PHONE', 1),))
    query_key("Call 555-867-5309  about Tents")   # -> 'call [phone] about tents'

``text`` (scrubbed, whitespace collapsed, case kept) is what ingest stores as the query's text and
what a model reads; ``key`` (``text`` lower-cased) is the query's identity everywhere: the
``left`` column of search_buy behaviours, the KG query node id (``node_id("query", key)``), the
knowledge lookup (exact node, leave-own-out, hidden queries), ``intentkg kg query``, the serving
cache key (``"q:" + key``) and the evaluation's query grouping. A key is a fixed point:
``query_key(query_key(q)) == query_key(q)``, so code holding a stored key may pass it back in.

With ``scrub_pii=False`` (ingest's ``--keep-pii``, for logs scrubbed upstream) only the
normalisation applies; lookups still scrub, so a query whose raw text held PII then has a
different key at lookup time than in the KG.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from intentkg.pii import scrub
from intentkg.pii.scrub import needs_analyzer
from intentkg.pii.engine import model_setting

__all__ = ["CleanQuery", "clean_query", "query_key"]


@dataclass(frozen=True, slots=True)  # slots: the LRU below holds 65,536 of them
class CleanQuery:
    text: str  # PII replaced by placeholders, whitespace collapsed, case kept
    key: str  # text lower-cased: the query's identity in the KG, the lookup, serving and the evaluation
    found: tuple[tuple[str, int], ...] = ()  # PII spans replaced, (kind, count), sorted by kind

    @property
    def redactions(self) -> int:
        return sum(n for _, n in self.found)


@lru_cache(maxsize=1 << 16)
def _clean(raw: str, scrub_pii: bool, model: str) -> CleanQuery:  # model: the cache must not outlive a change
    if scrub_pii and needs_analyzer(raw, model):
        result = scrub(raw, model)
        text, found = result.text, tuple(sorted(result.found.items()))
    else:
        text, found = raw, ()
    text = " ".join(text.split())
    return CleanQuery(text, text.lower(), found)


def clean_query(raw: str | None, scrub_pii: bool = True) -> CleanQuery:
    """The scrubbed text and the key of a raw query (``None`` counts as the empty query)."""
    return _clean("" if raw is None else str(raw), bool(scrub_pii), model_setting())


def query_key(raw: str | None) -> str:
    """The key of a raw query: scrubbed, lower-cased, whitespace collapsed, as ingest stores it."""
    return clean_query(raw).key
