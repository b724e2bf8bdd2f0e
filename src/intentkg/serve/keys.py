"""Cache keys and values. A query key is the scrubbed, lower-cased, whitespace-collapsed query, as
ingest stores queries in the KG; a product key is its id."""

from __future__ import annotations

import json
from typing import Any

from intentkg.ingest.pii import scrub

MAX_QUERY_CHARS = 500


def normalise_query(query: str) -> str:
    return " ".join(scrub(query).text.lower().split())


def query_key(query: str) -> str:
    return "q:" + normalise_query(query)


def product_key(product_id: str) -> str:
    return "p:" + product_id.strip()


def encode(kind: str, text: str, intentions: list[dict[str, Any]], source: str) -> str:
    return json.dumps({"kind": kind, "text": text, "intentions": intentions, "source": source},
                      ensure_ascii=False, separators=(",", ":"))


def decode(value: str) -> dict[str, Any]:
    return json.loads(value)
