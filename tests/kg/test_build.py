from __future__ import annotations

import pyarrow.dataset as ds

from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig, OperatingPoint
from intentkg.kg.query import KnowledgeGraph
from intentkg.workspace.lineage import trace

from helpers.kg_workspace import make_workspace


def _edges(ws):
    return ds.dataset(ws.stage_dir("kg") / "edges", format="parquet", partitioning="hive").to_table().to_pylist()


def test_build_merges_duplicates_and_applies_the_operating_point(kg_workspace):
    manifest = run_build(kg_workspace, BuildConfig(hierarchy=False))
    assert manifest.status == "complete"
    assert manifest.extra["operating_point"]["applied"]["plausibility"]["min"] == 0.5
    nodes = kg_workspace.read("kg", "nodes").to_pylist()
    intentions = {n["text"].lower().rstrip(".") for n in nodes if n["kind"] == "intention"}
    # "winter camping", "Winter Camping." and "winter campings" are one node; implausible and circular are out
    assert "keep warm at night" not in intentions and "because they like it" not in intentions
    assert sum(1 for i in intentions if i.startswith("winter camping")) == 1
    edges = _edges(kg_workspace)
    tent_winter = [e for e in edges if e["head"] == "product:T1" and e["relation"] == "used_for_event"
                   and e["tail"].startswith("intention:")]
    winter = [e for e in tent_winter if len(e["behavior_ids"]) == 2]
    assert len(winter) == 1 and winter[0]["support"] == 2
    assert sorted(winter[0]["candidate_ids"]) == ["c0", "c1", "c3"]
    assert {e["relation"] for e in edges} >= {"bought_with", "bought_after_search", "in_category"}
    assert all(e["threshold"] == 0.5 for e in edges if e["tail"].startswith("intention:"))


def test_partitioned_by_relation(kg_workspace):
    run_build(kg_workspace, BuildConfig(hierarchy=False))
    folders = {p.name for p in (kg_workspace.stage_dir("kg") / "edges").iterdir()}
    assert "relation=used_for_event" in folders and "relation=in_category" in folders
    # in_category: each product on either side of a kept behaviour, supported by those behaviours
    # (computed here from the ingest tables, not by the build's SQL)
    edges = _edges(kg_workspace)
    kept = {e["head"].removeprefix("behavior:") for e in edges if e["head"].startswith("behavior:")}
    category = {p["product_id"]: p["category"] for p in kg_workspace.read("ingest", "products").to_pylist()}
    expected: dict[str, set[str]] = {}
    for b in kg_workspace.read("ingest", "behaviors").to_pylist():
        for product in {b["left"], b["right"]} & set(category):
            if b["behavior_id"] in kept and category[product] is not None:
                expected.setdefault(f"product:{product}", set()).add(b["behavior_id"])
    got = {e["head"]: e["behavior_ids"] for e in edges if e["relation"] == "in_category"}
    assert got == {h: sorted(ids) for h, ids in expected.items()} and any(len(ids) > 1 for ids in got.values())
    assert any(h.removeprefix("product:") in {b["left"] for b in kg_workspace.read("ingest", "behaviors").to_pylist()}
               for h in got)  # a co_buy's left product counts too


def test_queries(kg_workspace):
    run_build(kg_workspace, BuildConfig(hierarchy=False))
    kg = KnowledgeGraph(kg_workspace)
    for_query = kg.intentions_for_query("WINTER camping gear")
    assert {r["intention"].lower() for r in for_query} >= {"winter camping", "snowy mountains"}
    assert [r["intention"] for r in kg.intentions_for_product("B1")] != []
    sharing = {r["product_id"] for r in kg.products_sharing_intention("winter camping")}
    assert sharing == {"T1", "M1", "S1"}
    hops = kg.two_hop("winter camping gear")
    assert {"T1", "M1", "S1"} <= {h["product_id"] for h in hops}
    top = kg.top_intentions("Camping")
    assert top[0]["intention"].lower().startswith("winter camping")
    assert all(r["intention"] != "newborn babies" for r in top)


def test_per_relation_threshold_and_missing_critic(tmp_path):
    ws = make_workspace(tmp_path / "a")
    point = OperatingPoint(min_plausibility=0.5, per_relation={"used_in_location": 0.99})
    run_build(ws, BuildConfig(hierarchy=False, operating_point=point))
    assert not any(r["intention"] == "snowy mountains"
                   for r in KnowledgeGraph(ws).intentions_for_query("winter camping gear"))
    no_critic = make_workspace(tmp_path / "b", critic=False)
    manifest = run_build(no_critic, BuildConfig(hierarchy=False))
    assert any("plausibility" in s for s in manifest.extra["operating_point"]["applied"]["skipped"])
    # all but the circular one: 9 kept, and the duplicate c1 merged into its representative c0
    assert (manifest.counts["candidates_kept"], manifest.counts["candidates_merged"]) == (9, 1)


def test_lineage_from_an_edge_reaches_prompt_model_and_input_rows(kg_workspace):
    run_build(kg_workspace, BuildConfig(hierarchy=False))
    edge = next(e for e in _edges(kg_workspace) if e["head"] == "product:T1" and e["support"] == 2
                and e["tail"].startswith("intention:"))
    node = trace(kg_workspace, edge["edge_id"])
    assert node.table == "edges" and node.row["critic_id"] == "demo-critic"
    candidates = [p for p in node.parents if p.table == "candidates"]
    assert candidates and candidates[0].row["template_version"] == "1" and candidates[0].row["model_hash"] == "abc"
    files = {f for f, _ in node.input_files()}
    assert any(f.endswith("pairs.csv") for f in files) and any(f.endswith("products.csv") for f in files)


def test_hierarchy_links_fine_to_broad(kg_workspace):
    run_build(kg_workspace, BuildConfig(hierarchy=True))
    kg = KnowledgeGraph(kg_workspace)
    children = {c["text"].lower() for c in kg.children("camping")}
    assert any(c.startswith("winter camping") for c in children)
