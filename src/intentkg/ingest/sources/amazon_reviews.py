"""Amazon Reviews 2023 item metadata (meta_<Category>.jsonl) -> products and co_buy pairs.

Fields used: parent_asin, title, main_category, categories, store, features, description,
details.Color and bought_together. A bought_together ASIN that is not in the file is
quarantined as dangling (the pair cannot be explained without its title).
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from intentkg.ingest.checks import RowChecker
from intentkg.ingest.config import AmazonReviewsSource
from intentkg.ingest.pii import Scrubber
from intentkg.ingest.quarantine import Quarantine
from intentkg.ingest.reading import ROW, load
from intentkg.ingest.rows import co_buy_rows, products_from
from intentkg.ingest.sources.base import SourceTables


def _list(text: str | None) -> list:
    if text is None or text == "":
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return [text]
    return value if isinstance(value, list) else [value]


def _color(details: str | None) -> str | None:
    try:
        value = json.loads(details) if details else {}
    except json.JSONDecodeError:
        return None
    return str(value.get("Color")) if isinstance(value, dict) and value.get("Color") else None


def read(source: AmazonReviewsSource, quarantine: Quarantine, scrubber: Scrubber) -> SourceTables:
    path = source.path
    table = load(path, {"product_id": "parent_asin", "title": "title"},
                 {"main_category": "main_category", "categories": "categories", "store": "store",
                  "features": "features", "description": "description", "details": "details",
                  "bought_together": "bought_together"}, quarantine, "Amazon Reviews 2023 metadata")
    check = RowChecker(table, str(path), quarantine)
    check.text("product_id", required=True)
    check.text("title", required=True)
    check.unique("product_id")
    table = check.result()
    n = table.num_rows

    def column(name):
        return table.column(name).to_pylist() if name in table.column_names else [None] * n

    categories = [_list(c) for c in column("categories")]
    main = column("main_category")
    shaped = pa.table({
        "product_id": table.column("product_id"),
        "title": table.column("title"),
        "category": pa.array([m or (c[0] if c else None) for m, c in zip(main, categories)], pa.string()),
        "product_type": pa.array([str(c[-1]) if c else None for c in categories], pa.string()),
        "brand": pa.array(column("store"), pa.string()),
        "description": pa.array([" ".join(map(str, _list(d))) or None for d in column("description")], pa.string()),
        "bullets": pa.array([" | ".join(map(str, _list(f))) or None for f in column("features")], pa.string()),
        "color": pa.array([_color(d) for d in column("details")], pa.string()),
        ROW: table.column(ROW),
    })
    products = products_from(shaped, "amazon_reviews", str(path))
    known = set(table.column("product_id").to_pylist())
    left, right, rows, dangling = [], [], [], 0
    for asin, together, row in zip(table.column("product_id").to_pylist(), column("bought_together"),
                                   table.column(ROW).to_pylist()):
        for other in _list(together):
            other = str(other).strip()
            if not other or other == asin:
                continue
            if other not in known:
                dangling += 1
                quarantine.add(file=str(path), row=row, column="bought_together", reason="dangling_product",
                               detail=f"bought_together ASIN {other} is not in this file; add its metadata row",
                               raw={"parent_asin": asin, "bought_together": other})
                continue
            left.append(asin)
            right.append(other)
            rows.append(row)
    behaviors = co_buy_rows(pa.array(left, pa.string()), pa.array(right, pa.string()),
                            pa.array(np.ones(len(left), dtype=np.int64)), pa.array(rows, pa.int64()),
                            "amazon_reviews", str(path))
    return SourceTables(products, behaviors, {"items": n, "bought_together_pairs": len(left),
                                              "dangling_bought_together": dangling})
