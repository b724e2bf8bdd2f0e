"""Checks the shipped demo dataset against its contract (docs/demo-data.md)."""
from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "make_demo_data.py"

try:
    from intentkg.demo_data import DEMO_DATA_DIR, FILES, demo_path
except ImportError:  # running from a checkout without the package installed
    sys.path.insert(0, str(REPO / "src"))
    from intentkg.demo_data import DEMO_DATA_DIR, FILES, demo_path

RELATIONS = {
    "used_for_function", "used_for_event", "used_for_audience", "used_in_location", "used_in_body",
    "used_with", "xIs_a", "xWant", "xInterested_in", "capable_of", "is_a", "used_as", "used_on",
    "used_by", "used_to",
}
QUESTIONS = ("completeness", "relevance", "informativeness", "plausibility", "typicality")
ESCI_EXAMPLE_SCHEMA = pa.schema([
    ("example_id", pa.int64()), ("query", pa.string()), ("query_id", pa.int64()),
    ("product_id", pa.string()), ("product_locale", pa.string()), ("esci_label", pa.string()),
    ("small_version", pa.int64()), ("large_version", pa.int64()), ("split", pa.string()),
])
ESCI_PRODUCT_SCHEMA = pa.schema([
    ("product_id", pa.string()), ("product_title", pa.string()), ("product_description", pa.string()),
    ("product_bullet_point", pa.string()), ("product_brand", pa.string()),
    ("product_color", pa.string()), ("product_locale", pa.string()),
])
PII_PATTERNS = [
    re.compile(r"[\w.+-]+@[\w-]+\.\w+"),  # e-mail
    re.compile(r"\(?\b\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}\b"),  # phone
    re.compile(r"\b\d{1,5}\s+\w+\s+(street|st|avenue|ave|road|rd|lane|ln|drive|dr|blvd)\b"),  # address
    re.compile(r"\b\d{4}[\s-]\d{4}[\s-]\d{4}[\s-]\d{4}\b"),  # card number
]


def read_csv(name: str) -> tuple[list[str], list[dict]]:
    with demo_path(name).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def load_script():
    if not SCRIPT.exists():
        pytest.skip("scripts/make_demo_data.py is not available (installed package, no checkout)")
    if "make_demo_data" not in sys.modules:  # dataclasses need the module registered
        spec = importlib.util.spec_from_file_location("make_demo_data", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        sys.modules["make_demo_data"] = module
        spec.loader.exec_module(module)
    return sys.modules["make_demo_data"]


@pytest.fixture(scope="module")
def products():
    header, rows = read_csv("products.csv")
    assert header == ["product_id", "title", "category", "product_type", "brand", "description", "bullets",
                      "color", "locale"]
    return {r["product_id"]: r for r in rows}


@pytest.fixture(scope="module")
def co_buy():
    header, rows = read_csv("co_buy.csv")
    assert header == ["left_product_id", "right_product_id", "support"]
    return rows


@pytest.fixture(scope="module")
def search_log():
    header, rows = read_csv("search_log.csv")
    assert header == ["query", "product_id", "impressions", "clicks", "purchases"]
    return rows


@pytest.fixture(scope="module")
def examples():
    return pq.read_table(demo_path("esci/shopping_queries_dataset_examples.parquet"))


@pytest.fixture(scope="module")
def annotations():
    with demo_path("annotated_candidates.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


# --------------------------------------------------------------------------- files
def test_files_present_and_small():
    for name in FILES:
        assert demo_path(name).is_file(), name
    assert demo_path("esci").is_dir()
    total = sum(demo_path(name).stat().st_size for name in FILES)
    assert total < 5_000_000, f"demo data is {total} bytes; keep it under 5 MB"


def test_demo_path_rejects_unknown_names():
    assert demo_path("products.csv") == DEMO_DATA_DIR / "products.csv"
    with pytest.raises(FileNotFoundError, match="available"):
        demo_path("no_such_file.csv")
    with pytest.raises(FileNotFoundError):
        demo_path("../__init__.py")


# --------------------------------------------------------------------------- products
def test_products(products):
    rows = list(products.values())
    assert len(rows) >= 450
    assert all(re.fullmatch(r"IKG\d{7}", pid) for pid in products)
    assert len({r["title"] for r in rows}) == len(rows), "titles must be unique"
    assert len({r["category"] for r in rows}) >= 10
    assert len({r["product_type"] for r in rows}) >= 50
    for r in rows:
        assert all(r[c].strip() for c in r), r["product_id"]
        assert r["locale"] == "us"
        assert r["brand"] in r["title"]
        assert 2 <= len(r["bullets"].split(" | ")) <= 4, r["product_id"]
        assert 1 <= r["description"].count(". ") + 1 <= 2 and r["description"].endswith("."), r["description"]


# --------------------------------------------------------------------------- co-buy
def test_co_buy(products, co_buy):
    assert len(co_buy) >= 900
    pairs = [(r["left_product_id"], r["right_product_id"]) for r in co_buy]
    assert all(a < b for a, b in pairs), "pairs are stored with left < right"
    assert len(set(pairs)) == len(pairs), "pairs must be distinct"
    assert all(a in products and b in products for a, b in pairs)
    support = sorted(int(r["support"]) for r in co_buy)
    assert support[0] >= 1
    assert sum(s == 1 for s in support) >= 0.05 * len(support)
    median = support[len(support) // 2]
    assert support[-1] >= 20 * median, "support should be long-tailed"


def test_co_buy_mostly_shares_an_intent(products, co_buy):
    mod = load_script()
    serves = defaultdict(set)
    for intent in mod.V.INTENTS:
        for t in intent.types:
            serves[t].add(intent.key)
    complements = {frozenset(p) for p in mod.V.COMPLEMENTS}
    related = 0
    for r in co_buy:
        ta, tb = (products[r[c]]["product_type"] for c in ("left_product_id", "right_product_id"))
        related += bool(serves[ta] & serves[tb]) or frozenset((ta, tb)) in complements
    assert 0.85 <= related / len(co_buy) < 1.0, "mostly related pairs, plus some noise"


# --------------------------------------------------------------------------- search log
def test_search_log(products, search_log):
    assert len(search_log) >= 900
    assert len({r["query"] for r in search_log}) >= 250
    low = 0
    for r in search_log:
        assert r["product_id"] in products
        imp, clk, buy = int(r["impressions"]), int(r["clicks"]), int(r["purchases"])
        assert 0 <= buy <= clk <= imp and imp > 0, r
        low += buy == 0 or clk / imp < 0.02
    assert low >= 0.05 * len(search_log), "some rows must fall below rate thresholds"
    assert sum(int(r["purchases"]) > 0 for r in search_log) >= 0.7 * len(search_log)


def test_search_log_has_a_handful_of_pii_queries(search_log):
    queries = {r["query"] for r in search_log}
    dirty = {q for q in queries if any(p.search(q) for p in PII_PATTERNS)}
    assert 5 <= len(dirty) <= 10, sorted(dirty)


# --------------------------------------------------------------------------- ESCI
def test_esci_schema_is_the_public_one(examples):
    products = pq.read_table(demo_path("esci/shopping_queries_dataset_products.parquet"))
    assert examples.schema.remove_metadata().equals(ESCI_EXAMPLE_SCHEMA)
    assert products.schema.remove_metadata().equals(ESCI_PRODUCT_SCHEMA)


def test_esci_schema_matches_the_real_sample(shared_data):
    for name in ("examples", "products"):
        real = pq.read_schema(shared_data / "esci-sample" / f"shopping_queries_dataset_{name}.parquet")
        ours = pq.read_schema(demo_path(f"esci/shopping_queries_dataset_{name}.parquet"))
        assert ours.remove_metadata().equals(real.remove_metadata()), name


def test_esci_examples(products, examples):
    rows = examples.to_pylist()
    assert len(rows) >= 2200
    assert len({r["example_id"] for r in rows}) == len(rows)
    by_query = defaultdict(list)
    for r in rows:
        by_query[r["query_id"]].append(r)
    assert len(by_query) >= 220
    assert 9 <= len(rows) / len(by_query) <= 11
    for qid, rs in by_query.items():
        assert len({r["query"] for r in rs}) == 1 and len({r["split"] for r in rs}) == 1, qid
        assert len({r["product_id"] for r in rs}) == len(rs), f"query {qid} lists a product twice"
    assert len({rs[0]["query"] for rs in by_query.values()}) == len(by_query), "query_id <-> query is 1:1"
    assert all(r["product_id"] in products and r["product_locale"] == "us" for r in rows)
    assert {r["small_version"] for r in rows} <= {0, 1} and {r["large_version"] for r in rows} == {1}
    labels = Counter(r["esci_label"] for r in rows)
    share = {k: labels[k] / len(rows) for k in "ESCI"}
    assert set(labels) == set("ESCI")
    assert 0.40 <= share["E"] <= 0.60 and 0.12 <= share["S"] <= 0.30
    assert 0.05 <= share["C"] <= 0.15 and 0.12 <= share["I"] <= 0.30, share
    splits = Counter(rs[0]["split"] for rs in by_query.values())
    assert set(splits) == {"train", "test"}
    assert 0.70 <= splits["train"] / len(by_query) <= 0.80


def test_esci_has_many_intent_queries(products, examples):
    """Many queries name no product type or brand, so the title alone cannot settle relevance."""
    names = {r["product_type"] for r in products.values()} | {r["brand"].lower() for r in products.values()}
    queries = set(examples.column("query").to_pylist())
    intent_like = [q for q in queries if not any(n in q for n in names)]
    assert len(intent_like) >= 0.4 * len(queries)
    for q in ("gear for winter camping", "gifts for a new dad", "things for a newborn's first week",
              "home office setup for back pain"):
        assert q in queries


def test_esci_products_are_the_catalogue(products):
    rows = pq.read_table(demo_path("esci/shopping_queries_dataset_products.parquet")).to_pylist()
    assert {r["product_id"] for r in rows} == set(products)
    for r in rows:
        p = products[r["product_id"]]
        assert (r["product_title"], r["product_brand"], r["product_color"], r["product_description"]) == \
               (p["title"], p["brand"], p["color"], p["description"])
        assert r["product_bullet_point"].split("\n") == p["bullets"].split(" | ")
        assert r["product_locale"] == "us"


# --------------------------------------------------------------------------- annotations
def test_annotations_shape(products, co_buy, search_log, annotations):
    assert len(annotations) >= 900
    keys = ["candidate_id", "behavior_kind", "head_text", "product_ids", "relation", "tail", "annotator",
            *QUESTIONS]
    by_cand = defaultdict(list)
    for a in annotations:
        assert list(a) == keys
        assert a["behavior_kind"] in ("co_buy", "search_buy")
        assert a["relation"] in RELATIONS
        assert isinstance(a["tail"], str) and a["tail"]
        assert all(isinstance(a[q], bool) for q in QUESTIONS)
        by_cand[a["candidate_id"]].append(a)
    assert len(by_cand) >= 450
    pairs = {(r["left_product_id"], r["right_product_id"]) for r in co_buy}
    bought = {(r["query"], r["product_id"]) for r in search_log if int(r["purchases"]) > 0}
    for cid, (a, b) in ((c, v) for c, v in by_cand.items() if len(v) == 2):
        assert (a["annotator"], b["annotator"]) == ("ann1", "ann2"), cid
        assert all(a[k] == b[k] for k in ("behavior_kind", "head_text", "product_ids", "relation", "tail"))
        ids = a["product_ids"]
        assert all(i in products for i in ids)
        if a["behavior_kind"] == "co_buy":
            assert tuple(ids) in pairs, cid
            assert a["head_text"] == " || ".join(products[i]["title"] for i in ids)
        else:
            assert len(ids) == 1 and (a["head_text"], ids[0]) in bought, cid
    assert all(len(v) == 2 for v in by_cand.values()), "every candidate has exactly two annotators"
    assert len({a["relation"] for a in annotations}) >= 12
    kinds = Counter(v[0]["behavior_kind"] for v in by_cand.values())
    assert min(kinds.values()) >= 0.35 * len(by_cand)


def test_annotation_labels(annotations):
    by_cand = defaultdict(dict)
    for a in annotations:
        by_cand[a["candidate_id"]][a["annotator"]] = a
    for q in QUESTIONS:
        disagree = sum(v["ann1"][q] != v["ann2"][q] for v in by_cand.values()) / len(by_cand)
        assert 0.05 <= disagree <= 0.20, (q, disagree)
    rate = {q: sum(a[q] for a in annotations) / len(annotations) for q in QUESTIONS}
    assert 0.45 <= rate["plausibility"] <= 0.65, rate
    assert rate["typicality"] < rate["plausibility"] < rate["completeness"], rate
    tails = Counter(a["tail"] for a in annotations)
    assert any(t in tails for t in ("telling time", "because they like it", "the")), "mix of candidate kinds"


# --------------------------------------------------------------------------- reproducibility and docs
def test_generator_reproduces_the_committed_files(tmp_path):
    if not SCRIPT.exists():
        pytest.skip("scripts/make_demo_data.py is not available (installed package, no checkout)")
    env = dict(os.environ, PYTHONHASHSEED="12345")  # a different hash seed must not matter
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path), "--no-docs"], check=True, env=env,
                   capture_output=True)
    for name in FILES:
        fresh, shipped = tmp_path / name, demo_path(name)
        if name.endswith(".parquet"):
            a, b = pq.read_table(fresh), pq.read_table(shipped)
            assert a.schema.equals(b.schema) and a.equals(b), f"{name} differs from a fresh run"
        else:
            assert fresh.read_bytes() == shipped.read_bytes(), f"{name} differs from a fresh run"


def test_docs_count_table_is_current():
    docs = REPO / "docs" / "demo-data.md"
    if not docs.exists():
        pytest.skip("docs/demo-data.md is not available")
    mod = load_script()
    table = mod.count_table(mod.summarize(DEMO_DATA_DIR))
    assert table in docs.read_text(encoding="utf-8"), "run python scripts/make_demo_data.py to refresh the docs"
