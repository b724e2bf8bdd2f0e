"""A tiny ESCI-format set over the KG test workspace's catalogue (tests/helpers/kg_workspace.py)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers.kg_workspace import make_workspace

from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig

PRODUCTS = {
    "T1": "Trailblazer 4-Season Dome Tent", "M1": "Arctic Self-Inflating Air Mattress",
    "S1": "Summit 0F Mummy Sleeping Bag", "B1": "Cozy Newborn Swaddle 3 Pack",
    "B2": "Gentle Baby Lotion for Sensitive Skin",
}
# query -> labels for T1, M1, S1, B1, B2
QUERIES = {
    "winter camping gear": "SEEII", "camping gear for winter trips": "SEEII", "cold weather camping": "SEEII",
    "newborn essentials": "IIIEC", "things for a newborn": "IIIEC", "baby skin care": "IIICE",
    "tent for snow": "ESCII", "sleeping bag for winter": "SSEII",
}
TEST = {"camping gear for winter trips", "things for a newborn", "sleeping bag for winter"}


def write_esci(folder, queries=QUERIES, test=TEST, locale="us"):
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for qid, (query, labels) in enumerate(queries.items()):
        for pid, label in zip(PRODUCTS, labels):
            rows.append({"example_id": len(rows), "query": query, "query_id": qid, "product_id": pid,
                         "product_locale": locale, "esci_label": label, "small_version": 0, "large_version": 1,
                         "split": "test" if query in test else "train"})
    pq.write_table(pa.Table.from_pylist(rows), folder / "shopping_queries_dataset_examples.parquet")
    products = [{"product_id": pid, "product_title": title, "product_description": f"<b>{title}</b> description",
                 "product_bullet_point": "bullet one\nbullet two", "product_brand": "Brand", "product_color": "Black",
                 "product_locale": locale} for pid, title in PRODUCTS.items()]
    pq.write_table(pa.Table.from_pylist(products), folder / "shopping_queries_dataset_products.parquet")
    return folder


@pytest.fixture
def esci_dir(tmp_path):
    return write_esci(tmp_path / "esci")


@pytest.fixture
def eval_ws(tmp_path):
    ws = make_workspace(tmp_path / "kgws")
    run_build(ws, BuildConfig(hierarchy=False))
    return ws
