"""A small real workspace for KG, knowledge and serving tests: ingest from CSV, then candidates and scores tables in the
contract schemas (as the generate and filter stages write them)."""

from __future__ import annotations

import hashlib

import pyarrow as pa

from intentkg.ingest import IngestConfig, run_ingest
from intentkg.ingest.config import TableSource
from intentkg.schemas import conform
from intentkg.workspace import Workspace

PRODUCTS = """product_id,title,category,product_type
T1,Trailblazer 4-Season Dome Tent,Camping,tent
M1,Arctic Self-Inflating Air Mattress,Camping,air mattress
S1,Summit 0F Mummy Sleeping Bag,Camping,sleeping bag
B1,Cozy Newborn Swaddle 3 Pack,Baby,swaddle
B2,Gentle Baby Lotion for Sensitive Skin,Baby,lotion
"""
PAIRS = "left_product_id,right_product_id,support\nT1,M1,5\nT1,S1,3\nB1,B2,4\n"
SEARCH = "query,product_id,purchases\nWinter camping gear,M1,6\nwinter camping gear,S1,2\nnewborn essentials,B1,3\n"

# (left, right or query, relation, tail, plausibility, flags, dup_of_index)
CANDIDATES = [
    ("T1|M1", "used_for_event", "winter camping", 0.9, [], None),
    ("T1|M1", "used_for_event", "Winter Camping.", 0.8, [], 0),  # duplicate of #0
    ("T1|M1", "used_for_event", "camping", 0.7, [], None),
    ("T1|S1", "used_for_event", "winter campings", 0.85, [], None),
    ("T1|S1", "capable_of", "keep warm at night", 0.2, [], None),  # implausible
    ("T1|S1", "used_for_function", "because they like it", 0.9, ["circular"], None),
    ("q:winter camping gear|M1", "used_for_event", "winter camping", 0.95, [], None),
    ("q:winter camping gear|S1", "used_in_location", "snowy mountains", 0.6, [], None),
    ("B1|B2", "used_for_audience", "newborn babies", 0.9, [], None),
    ("q:newborn essentials|B1", "used_for_audience", "newborn baby", 0.8, [], None),
    ("q:newborn essentials|B1", "used_for_function", "keep the baby warm", 0.7, [], None),
]


def _behavior_id(kind, left, right):
    return hashlib.md5(f"{kind}\x1f{left}\x1f{right}".encode()).hexdigest()[:16]


def make_workspace(root, critic: bool = True, products: str = PRODUCTS, pairs: str = PAIRS, search: str = SEARCH,
                   candidate_spec: list = CANDIDATES, knowledge: bool = True) -> Workspace:
    """``knowledge=False``: the ingest stage only (a real generator writes the candidates)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "products.csv").write_text(products)
    (root / "pairs.csv").write_text(pairs)
    (root / "search.csv").write_text(search)
    ws = Workspace(root / "ws")
    run_ingest(IngestConfig(sources=[TableSource(role="products", path=root / "products.csv"),
                                     TableSource(role="co_buy", path=root / "pairs.csv"),
                                     TableSource(role="search_log", path=root / "search.csv")]), ws)
    if not knowledge:
        return ws
    behaviors = {b["behavior_id"]: b for b in ws.read("ingest", "behaviors").to_pylist()}
    candidates, scores = [], []
    for i, (pair, relation, tail, plausibility, flags, dup) in enumerate(candidate_spec):
        left, right = pair.split("|")
        kind, left = ("search_buy", left[2:]) if left.startswith("q:") else ("co_buy", left)
        if kind == "co_buy":
            left, right = sorted((left, right))
        behavior_id = _behavior_id(kind, left, right)
        assert behavior_id in behaviors, pair
        candidates.append({"candidate_id": f"c{i}", "behavior_id": behavior_id, "kind": kind,
                           "head": behaviors[behavior_id]["left_text"], "relation": relation, "tail": tail,
                           "position": 1, "raw_text": f"1. {tail}", "parse_status": "ok", "prompt_id": "qa",
                           "template_version": "1", "model_id": "gemma-3-270m", "model_hash": "abc",
                           "request_key": f"k{i}", "sample": 0})
        scores.append({"candidate_id": f"c{i}", "rule_flags": flags,
                       "rule_details": [], "dup_of": f"c{dup}" if dup is not None else None,
                       "dup_count": 1 if i == 0 else 0, "plausibility": plausibility if critic else None,
                       "typicality": plausibility if critic else None,
                       "critic_id": "demo-critic" if critic else None})
    with ws.run("generate", config={}, inputs=["ingest"]) as run:
        run.write("candidates", conform(pa.Table.from_pylist(candidates), "candidates"))
    with ws.run("filter", config={}, inputs=["generate"]) as run:
        run.write("scores", conform(pa.Table.from_pylist(scores), "scores"))
    return ws

