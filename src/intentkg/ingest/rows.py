"""Shape readers' output into the products table and the raw behaviour rows the ingest stage merges."""

from __future__ import annotations

import pyarrow as pa

from intentkg.ingest.pii import Scrubber
from intentkg.ingest.reading import ROW
from intentkg.schemas import conform

RAW_BEHAVIORS = pa.schema(
    [
        pa.field("kind", pa.string(), nullable=False),
        pa.field("left", pa.string(), nullable=False),
        pa.field("right", pa.string(), nullable=False),
        pa.field("query_text", pa.string()),  # search_buy: the scrubbed query
        pa.field("support", pa.int64(), nullable=False),
        pa.field("clicks", pa.int64()),
        pa.field("impressions", pa.int64()),
        pa.field("pii_redactions", pa.int32(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("source_row", pa.int64(), nullable=False),
    ]
)


def products_from(table: pa.Table, source: str, file: str) -> pa.Table:
    """``table`` has our product column names and ``__row``; add provenance and conform."""
    n = table.num_rows
    table = table.append_column("source", pa.array([source] * n, pa.string()))
    table = table.append_column("source_file", pa.array([file] * n, pa.string()))
    table = table.rename_columns([("source_row" if c == ROW else c) for c in table.column_names])
    return conform(table, "products")


def search_rows(table: pa.Table, scrubber: Scrubber, source: str, file: str) -> pa.Table:
    """Rows with query, product_id, support (and optional clicks, impressions) -> raw behaviours; each
    query keyed by :func:`intentkg.query_key.clean_query` (``left`` = key, ``query_text`` = scrubbed text)."""
    cleaned = [scrubber.clean(query) for query in table.column("query").to_pylist()]
    n = table.num_rows
    columns = {
        "kind": pa.array(["search_buy"] * n, pa.string()),
        "left": pa.array([c.key for c in cleaned], pa.string()),
        "right": table.column("product_id"),
        "query_text": pa.array([c.text for c in cleaned], pa.string()),
        "support": table.column("support"),
        "clicks": table.column("clicks") if "clicks" in table.column_names else pa.nulls(n, pa.int64()),
        "impressions": table.column("impressions") if "impressions" in table.column_names else pa.nulls(n, pa.int64()),
        "pii_redactions": pa.array([c.redactions for c in cleaned], pa.int32()),
        "source": pa.array([source] * n, pa.string()),
        "source_file": pa.array([file] * n, pa.string()),
        "source_row": table.column(ROW),
    }
    return pa.table(columns).cast(RAW_BEHAVIORS)


def co_buy_rows(left: pa.Array, right: pa.Array, support: pa.Array, rows: pa.Array,
                source: str, file: str) -> pa.Table:
    n = len(left)
    columns = {
        "kind": pa.array(["co_buy"] * n, pa.string()),
        "left": left,
        "right": right,
        "query_text": pa.nulls(n, pa.string()),
        "support": support,
        "clicks": pa.nulls(n, pa.int64()),
        "impressions": pa.nulls(n, pa.int64()),
        "pii_redactions": pa.array([0] * n, pa.int32()),
        "source": pa.array([source] * n, pa.string()),
        "source_file": pa.array([file] * n, pa.string()),
        "source_row": rows,
    }
    return pa.table(columns).cast(RAW_BEHAVIORS)


def empty_behaviors() -> pa.Table:
    return RAW_BEHAVIORS.empty_table()
