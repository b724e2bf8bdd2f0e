"""ESCI (Shopping Queries Dataset): examples + products parquet -> search_buy behaviours and products.

Exact judgements (and Substitute, by option) become search_buy pairs. Only the chosen splits are
read (train by default) so that the evaluation's test queries never leak into the KG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from intentkg.ingest.checks import RowChecker
from intentkg.ingest.config import EsciSource
from intentkg.ingest.pii import Scrubber
from intentkg.ingest.quarantine import Quarantine
from intentkg.ingest.reading import load
from intentkg.ingest.rows import products_from, search_rows
from intentkg.ingest.sources.base import SourceTables

EXAMPLES_FILE = "shopping_queries_dataset_examples.parquet"
PRODUCTS_FILE = "shopping_queries_dataset_products.parquet"
LABELS = ("E", "S", "C", "I")


def _paths(source: EsciSource) -> tuple[Path, Path]:
    examples = source.examples or source.path / EXAMPLES_FILE
    products = source.products or source.path / PRODUCTS_FILE
    return examples, products


def read(source: EsciSource, quarantine: Quarantine, scrubber: Scrubber) -> SourceTables:
    examples_path, products_path = _paths(source)
    examples = load(examples_path, {"query": "query", "product_id": "product_id", "esci_label": "esci_label"},
                    {"product_locale": "product_locale", "split": "split", "query_id": "query_id"},
                    quarantine, "ESCI examples")
    check = RowChecker(examples, str(examples_path), quarantine)
    check.text("query", required=True)
    check.text("product_id", required=True)
    check.text("esci_label", required=True)
    labels = check.table.column("esci_label").to_pylist()
    unknown = np.array([label not in LABELS and label not in ("", None) for label in labels])
    check.reject_where(unknown, "bad_label", "esci_label", "esci_label must be one of E, S, C, I")
    examples = check.result()
    in_scope = np.ones(examples.num_rows, dtype=bool)
    if source.locales and "product_locale" in examples.column_names:
        in_scope &= np.isin(examples.column("product_locale").to_numpy(zero_copy_only=False), source.locales)
    if source.splits and "split" in examples.column_names:
        in_scope &= np.isin(examples.column("split").to_numpy(zero_copy_only=False), source.splits)
    scoped = examples.filter(pa.array(in_scope))
    chosen = scoped.filter(pc.is_in(scoped.column("esci_label"), pa.array(source.labels)))
    chosen = chosen.append_column("support", pa.array(np.ones(chosen.num_rows, dtype=np.int64)))
    behaviors = search_rows(chosen, scrubber, "esci", str(examples_path))

    products = load(products_path, {"product_id": "product_id", "title": "product_title"},
                    {"description": "product_description", "bullets": "product_bullet_point",
                     "brand": "product_brand", "color": "product_color", "locale": "product_locale"},
                    quarantine, "ESCI products")
    if not source.all_products:
        wanted = pa.array(sorted(set(chosen.column("product_id").to_pylist())), pa.string())
        products = products.filter(pc.is_in(pc.cast(products.column("product_id"), pa.string()), wanted))
    pcheck = RowChecker(products, str(products_path), quarantine)
    pcheck.text("product_id", required=True)
    pcheck.text("title", required=True)
    for name in ("description", "bullets", "brand", "color", "locale"):
        pcheck.text(name)
    pcheck.unique("product_id")
    products = products_from(pcheck.result(), "esci", str(products_path))
    counts = {
        "examples_read": examples.num_rows,
        "examples_in_scope": scoped.num_rows,
        "examples_as_search_buy": chosen.num_rows,
        "labels_used": list(source.labels),
    }
    return SourceTables(products, behaviors, counts)
