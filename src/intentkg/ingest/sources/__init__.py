"""Source readers: each turns one kind of input into products and raw behaviour rows."""

from intentkg.ingest.sources import amazon_reviews, esci, instacart, table
from intentkg.ingest.sources.base import SourceTables

READERS = {
    "esci": esci.read,
    "instacart": instacart.read,
    "amazon_reviews": amazon_reviews.read,
    "table": table.read,
}

__all__ = ["READERS", "SourceTables"]
