"""The hand-written benchmark sets of bench/pii (see bench/bench_pii.py for the full figures with the
real queries and the baseline): no product query is changed, every kind is caught at >= 95%."""

import csv
from collections import defaultdict
from pathlib import Path

from intentkg.pii import scrub

DATA = Path(__file__).resolve().parents[2] / "bench" / "pii" / "data"


def test_written_product_queries_stay():
    queries = (DATA / "pii_product_queries.txt").read_text(encoding="utf-8").splitlines()
    assert len(queries) >= 1000
    changed = [(q, scrub(q).text) for q in queries if scrub(q).text != q]
    assert changed == []


def test_written_personal_data_is_caught_per_kind():
    with open(DATA / "pii_positive.tsv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert len(rows) >= 300
    caught: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        text = scrub(row["query"]).text
        caught[row["kind"]].append(f"[{row['kind']}]" in text and row["value"].lower() not in text.lower())
    recall = {kind: sum(hits) / len(hits) for kind, hits in caught.items()}
    assert set(recall) == {"EMAIL", "PHONE", "CARD", "SSN", "ADDRESS", "IP", "NUMBER", "PERSON"}
    assert min(recall.values()) >= 0.95, recall
