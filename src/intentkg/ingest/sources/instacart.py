"""Order logs in the Instacart layout -> products (aisle as type, department as category) and co_buy pairs.

Two products bought in the same order form a co_buy pair; support is the number of orders that
contain both. Orders with more lines than ``max_basket_size`` are skipped and counted: a huge
basket pairs everything with everything and says little about shared intent.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from intentkg import duck
from intentkg.errors import InputError
from intentkg.ingest.checks import RowChecker
from intentkg.ingest.config import InstacartSource
from intentkg.ingest.pii import Scrubber
from intentkg.ingest.quarantine import Quarantine
from intentkg.ingest.reading import ROW, load
from intentkg.ingest.rows import RAW_BEHAVIORS, co_buy_rows, products_from
from intentkg.ingest.sources.base import SourceTables


def _lookup(path, key: str, value: str, quarantine: Quarantine) -> dict[str, str]:
    if not path.exists():
        return {}
    table = load(path, {key: key, value: value}, {}, quarantine, f"Instacart {path.name}")
    check = RowChecker(table, str(path), quarantine)
    check.text(key, required=True)
    check.text(value, required=True)
    table = check.result()
    return dict(zip(table.column(key).to_pylist(), table.column(value).to_pylist()))


def _products(source: InstacartSource, quarantine: Quarantine) -> pa.Table:
    path = source.path / "products.csv"
    aisles = _lookup(source.path / "aisles.csv", "aisle_id", "aisle", quarantine)
    departments = _lookup(source.path / "departments.csv", "department_id", "department", quarantine)
    table = load(path, {"product_id": "product_id", "title": "product_name"},
                 {"aisle_id": "aisle_id", "department_id": "department_id"}, quarantine, "Instacart products")
    check = RowChecker(table, str(path), quarantine)
    check.text("product_id", required=True)
    check.text("title", required=True)
    check.text("aisle_id")
    check.text("department_id")
    check.unique("product_id")
    table = check.result()
    aisle_ids = table.column("aisle_id").to_pylist() if "aisle_id" in table.column_names else [None] * table.num_rows
    dept_ids = (table.column("department_id").to_pylist() if "department_id" in table.column_names
                else [None] * table.num_rows)
    shaped = pa.table({
        "product_id": table.column("product_id"),
        "title": table.column("title"),
        "product_type": pa.array([aisles.get(a) for a in aisle_ids], pa.string()),
        "category": pa.array([departments.get(d) for d in dept_ids], pa.string()),
        ROW: table.column(ROW),
    })
    return products_from(shaped, "instacart", str(path))


def read(source: InstacartSource, quarantine: Quarantine, scrubber: Scrubber) -> SourceTables:
    products = _products(source, quarantine)
    known = products.column("product_id")
    pieces, counts = [], {"order_lines": 0, "orders_too_large": 0, "order_files": []}
    present = [name for name in source.order_files if (source.path / name).exists()]
    if not present:
        raise InputError(f"none of {', '.join(source.order_files)} found", file=str(source.path),
                         hint="point path at the folder holding order_products__prior.csv / __train.csv")
    for name in present:
        path = source.path / name
        lines = load(path, {"order_id": "order_id", "product_id": "product_id"}, {}, quarantine,
                     "Instacart order lines")
        check = RowChecker(lines, str(path), quarantine)
        check.text("order_id", required=True)
        check.text("product_id", required=True)
        ids = check.table.column("product_id")
        dangling = ~pc.fill_null(pc.is_in(ids, known), False).to_numpy(zero_copy_only=False)
        check.reject_where(dangling, "dangling_product", "product_id",
                           "product_id is not in products.csv; add the product or remove the line")
        lines = check.result()
        counts["order_lines"] += lines.num_rows
        counts["order_files"].append(name)
        pairs, too_large = _pairs(lines, source.max_basket_size)
        counts["orders_too_large"] += too_large
        pieces.append(co_buy_rows(pairs.column("l"), pairs.column("r"), pairs.column("support"),
                                  pairs.column("first_row"), "instacart", str(path)))
    behaviors = pa.concat_tables(pieces) if pieces else RAW_BEHAVIORS.empty_table()
    counts["pairs"] = behaviors.num_rows
    return SourceTables(products, behaviors, counts)


def _pairs(lines: pa.Table, max_basket: int) -> tuple[pa.Table, int]:
    con = duck.connect()
    con.register("lines", lines)
    too_large = duck.run(
        con, "SELECT count(*) FROM (SELECT order_id FROM lines GROUP BY order_id HAVING count(*) > ?)", [max_basket]
    )[0][0]
    pairs = duck.to_arrow(
        con,
        f"""
        WITH ok AS (
            SELECT DISTINCT l.order_id, l.product_id, min(l.{ROW}) OVER (PARTITION BY l.order_id, l.product_id) AS r
            FROM lines l JOIN (SELECT order_id FROM lines GROUP BY order_id HAVING count(*) <= ?) o
            USING (order_id)
        )
        SELECT a.product_id AS l, b.product_id AS r, count(*)::BIGINT AS support, min(a.r)::BIGINT AS first_row
        FROM ok a JOIN ok b ON a.order_id = b.order_id AND a.product_id < b.product_id
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
        [max_basket],
    )
    return pairs, int(too_large)

