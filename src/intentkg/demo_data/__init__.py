"""A small demo dataset shipped with intentkg, written for the project (see docs/demo-data.md).

Files (paths relative to DEMO_DATA_DIR):
    products.csv                 the catalogue
    co_buy.csv                   co-purchase pairs with support counts
    search_log.csv               query -> product impressions, clicks and purchases
    annotated_candidates.jsonl   candidate triples with two annotators' five yes/no answers
    esci/shopping_queries_dataset_examples.parquet   E/S/C/I labels in the public ESCI schema
    esci/shopping_queries_dataset_products.parquet   the catalogue in the ESCI product schema

Regenerate with `python scripts/make_demo_data.py`.
"""
from __future__ import annotations

from pathlib import Path

DEMO_DATA_DIR = Path(__file__).parent

FILES = (
    "products.csv",
    "co_buy.csv",
    "search_log.csv",
    "annotated_candidates.jsonl",
    "esci/shopping_queries_dataset_examples.parquet",
    "esci/shopping_queries_dataset_products.parquet",
)


def demo_path(name: str) -> Path:
    """Path of a demo file or folder, e.g. demo_path("co_buy.csv") or demo_path("esci")."""
    path = DEMO_DATA_DIR / name
    if not path.exists() or DEMO_DATA_DIR.resolve() not in (path.resolve(), *path.resolve().parents):
        raise FileNotFoundError(f"no demo data file {name!r} in {DEMO_DATA_DIR}; "
                                f"available: {', '.join(FILES)} (and the folder 'esci')")
    return path


__all__ = ["DEMO_DATA_DIR", "FILES", "demo_path"]
