"""Generic CSV / TSV / Parquet / JSONL files with a column mapping: products, search logs, co-purchase pairs.

Our column names, per role (map yours with ``columns: {ours: theirs}``):

- products: product_id, title (required); category, product_type, brand, description, bullets, color, locale
- search_log: query, product_id (required); purchases (default 1 per row), clicks, impressions
- co_buy: left_product_id, right_product_id (required); support (default 1 per row)
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from intentkg.ingest.checks import RowChecker
from intentkg.ingest.config import TABLE_COLUMNS, TableSource
from intentkg.ingest.pii import Scrubber
from intentkg.ingest.quarantine import Quarantine
from intentkg.ingest.reading import ROW, load
from intentkg.ingest.rows import RAW_BEHAVIORS, co_buy_rows, products_from, search_rows
from intentkg.ingest.sources.base import SourceTables
from intentkg.schemas import PRODUCTS

def _mapping(source: TableSource) -> tuple[dict[str, str], dict[str, str]]:
    required, optional = TABLE_COLUMNS[source.role]
    columns = source.columns
    return ({c: columns.get(c, c) for c in required}, {c: columns.get(c, c) for c in optional})


def read(source: TableSource, quarantine: Quarantine, scrubber: Scrubber) -> SourceTables:
    wanted, optional = _mapping(source)
    file = str(source.path)
    table = load(source.path, wanted, optional, quarantine, f"a {source.role} table", fmt=source.format)
    check = RowChecker(table, file, quarantine)
    for name in wanted:
        check.text(name, required=True)
    if source.role == "products":
        for name in optional:
            check.text(name)
        check.unique("product_id")
        return SourceTables(products_from(check.result(), "table", file), RAW_BEHAVIORS.empty_table(),
                            {"rows": table.num_rows})
    for name in optional:  # a blank purchases/support cell is an error, blank clicks are unknown
        check.integer(name, min_value=0, required=name in ("purchases", "support"))
    good = check.result()
    n = good.num_rows
    if source.role == "search_log":
        support = good.column("purchases") if "purchases" in good.column_names else pa.array(np.ones(n, np.int64))
        good = good.append_column("support", support)
        behaviors = search_rows(good, scrubber, "table", file)
    else:
        support = good.column("support") if "support" in good.column_names else pa.array(np.ones(n, np.int64))
        behaviors = co_buy_rows(good.column("left_product_id"), good.column("right_product_id"),
                                support, good.column(ROW), "table", file)
    empty_products = PRODUCTS.empty_table()
    return SourceTables(empty_products, behaviors, {"rows": table.num_rows})
