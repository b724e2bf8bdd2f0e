"""Cache keys and values. A query's cache key is ``"q:"`` + its key from
:func:`intentkg.query_key.query_key` (scrubbed, lower-cased, whitespace collapsed, as ingest stores
queries in the KG); a product's is ``"p:"`` + its id. With ``serve precompute --leave-out-query``,
``"q-:"`` + a logged query's key holds its knowledge as if it had never been logged, and ``"p-:"`` +
query key + tab + product id a product's knowledge without that query's behaviours (only for the
products those behaviours change; :mod:`intentkg.knowledge.leave_out`)."""

from __future__ import annotations

import json
import re
from typing import Any

from intentkg.query_key import clean_query, query_key

MAX_QUERY_CHARS = 500
PRODUCT_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")  # what a product id in a request may be


def query_cache_key(query: str) -> str:
    return "q:" + query_key(query)


def query_cache_key_and_pii(query: str) -> tuple[str, bool]:
    """(the query's cache key, whether the scrub found personal data in it), from one scrub."""
    cleaned = clean_query(query)
    return "q:" + cleaned.key, bool(cleaned.found)


def product_key(product_id: str) -> str:
    return "p:" + product_id.strip()


def left_out_query_key(query: str) -> str:
    return "q-:" + query_key(query)


def left_out_product_key(query: str, product_id: str) -> str:
    return "p-:" + query_key(query) + "\t" + product_id.strip()


def encode(kind: str, text: str, intentions: list[dict[str, Any]], source: str) -> str:
    return json.dumps({"kind": kind, "text": text, "intentions": intentions, "source": source},
                      ensure_ascii=False, separators=(",", ":"))


def decode(value: str) -> dict[str, Any]:
    return json.loads(value)
