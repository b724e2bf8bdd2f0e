"""A KG of the bundled demo without running a generator: the demo's behaviours (ingest demo) with the
demo's annotated candidates as generated knowledge, scored by their annotations, then `run_build`."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from intentkg.demo_data import demo_path
from intentkg.ingest import run_ingest
from intentkg.ingest.demo import demo_config
from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig
from intentkg.schemas import conform
from intentkg.workspace import Workspace


def demo_kg_workspace(root: Path) -> Workspace:
    ws = Workspace(root)
    run_ingest(demo_config(), ws)
    behaviors = ws.read("ingest", "behaviors").to_pylist()
    by_pair = {(b["kind"], b["left"], b["right"]): b for b in behaviors}
    by_query = {(b["left_text"] or "").lower(): b for b in behaviors if b["kind"] == "search_buy"}
    rows: dict[str, dict] = {}
    for line in demo_path("annotated_candidates.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item["candidate_id"] in rows:
            continue
        products = item["product_ids"]
        if item["behavior_kind"] == "search_buy":
            behavior = by_pair.get(("search_buy", " ".join(item["head_text"].lower().split()), products[0]))
            behavior = behavior or by_query.get(item["head_text"].lower())
        else:
            behavior = by_pair.get(("co_buy", *sorted(products)))
        if behavior is None:
            continue
        rows[item["candidate_id"]] = {"item": item, "behavior": behavior}
    candidates, scores = [], []
    for i, (cid, row) in enumerate(sorted(rows.items())):
        item, behavior = row["item"], row["behavior"]
        candidates.append({"candidate_id": cid, "behavior_id": behavior["behavior_id"], "kind": behavior["kind"],
                           "head": behavior["left_text"], "relation": item["relation"], "tail": item["tail"],
                           "position": 1, "raw_text": f"1. {item['tail']}", "parse_status": "ok", "prompt_id": "qa",
                           "template_version": "1", "model_id": "annotated", "model_hash": "demo",
                           "request_key": f"k{i}", "sample": 0})
        plausible = 0.9 if item["plausibility"] else 0.2
        scores.append({"candidate_id": cid, "rule_flags": [], "rule_details": [], "dup_of": None, "dup_count": 0,
                       "plausibility": plausible, "typicality": 0.9 if item["typicality"] else 0.2,
                       "critic_id": "annotations"})
    with ws.run("generate", config={"demo_annotations": True}, inputs=["ingest"]) as run:
        run.write("candidates", conform(pa.Table.from_pylist(candidates), "candidates"))
    with ws.run("filter", config={"demo_annotations": True}, inputs=["generate"]) as run:
        run.write("scores", conform(pa.Table.from_pylist(scores), "scores"))
    run_build(ws, BuildConfig(hierarchy=False))
    return ws
