"""Amazon Reviews 2023 item metadata: products, bought_together pairs, bad lines."""

from __future__ import annotations

import json

from intentkg.ingest.config import AmazonReviewsSource
from intentkg.ingest.pii import Scrubber
from intentkg.ingest.quarantine import Quarantine
from intentkg.ingest.sources import amazon_reviews

ITEMS = [
    {"main_category": "All Beauty", "title": "Hydrating Face Cream for Dry Skin, 1.7 oz", "average_rating": 4.3,
     "rating_number": 120, "features": ["Fragrance free", "Hyaluronic acid"], "description": ["Daily moisturizer."],
     "price": 12.99, "store": "DermaGlow", "categories": ["Beauty", "Skin Care", "Face Moisturizers"],
     "details": {"Color": "White"}, "parent_asin": "B0AAA00001", "bought_together": ["B0AAA00002", "B0ZZZ99999"]},
    {"main_category": "All Beauty", "title": "Gentle Foaming Cleanser 8 fl oz", "features": [], "description": [],
     "store": "DermaGlow", "categories": [], "details": {}, "parent_asin": "B0AAA00002", "bought_together": None},
]


def test_items_and_bought_together(tmp_path):
    path = tmp_path / "meta_All_Beauty.jsonl"
    lines = [json.dumps(item) for item in ITEMS] + ["{not json", json.dumps(["a", "list"]),
                                                    json.dumps({"parent_asin": "B0AAA00003", "title": ""})]
    path.write_text("\n".join(lines) + "\n")
    quarantine = Quarantine()
    tables = amazon_reviews.read(AmazonReviewsSource(path=path), quarantine, Scrubber())
    products = {p["product_id"]: p for p in tables.products.to_pylist()}
    assert set(products) == {"B0AAA00001", "B0AAA00002"}
    cream = products["B0AAA00001"]
    assert cream["category"] == "All Beauty" and cream["product_type"] == "Face Moisturizers"
    assert cream["brand"] == "DermaGlow" and cream["color"] == "White"
    assert cream["bullets"] == "Fragrance free | Hyaluronic acid"
    assert [(b["left"], b["right"]) for b in tables.behaviors.to_pylist()] == [("B0AAA00001", "B0AAA00002")]
    assert quarantine.by_reason == {"dangling_product": 1, "bad_json": 2, "empty_title": 1}
    rows = sorted(r["source_row"] for r in quarantine.table().to_pylist())
    assert rows == [1, 3, 4, 5]
