from __future__ import annotations

import pyarrow as pa

from intentkg.ingest import IngestConfig, run_ingest
from intentkg.ingest.config import TableSource
from intentkg.schemas import conform
from intentkg.workspace import Workspace
from intentkg.workspace.lineage import trace


def test_candidate_traces_to_behaviour_products_and_input_rows(tmp_path):
    (tmp_path / "products.csv").write_text("product_id,title\nP1,Dome Tent\nP2,Sleeping Bag\n")
    (tmp_path / "pairs.csv").write_text("left_product_id,right_product_id\nP2,P1\n")
    run_ingest(IngestConfig(sources=[TableSource(role="products", path=tmp_path / "products.csv"),
                                     TableSource(role="co_buy", path=tmp_path / "pairs.csv")]), tmp_path / "ws")
    ws = Workspace(tmp_path / "ws")
    behavior = ws.read("ingest", "behaviors").to_pylist()[0]
    candidate = {"candidate_id": "c1", "behavior_id": behavior["behavior_id"], "kind": "co_buy", "head": "x",
                 "relation": "used_for_event", "tail": "camping", "position": 1, "raw_text": "1. camping",
                 "parse_status": "ok", "prompt_id": "p", "template_version": "1", "model_id": "m",
                 "model_hash": "h", "request_key": "k", "sample": 0}
    with ws.run("generate", config={}, inputs=["ingest"]) as run:
        run.write("candidates", conform(pa.Table.from_pylist([candidate]), "candidates"))
        run.add_model("generator", "gemma-3-270m")
    node = trace(ws, "c1")
    assert node.table == "candidates" and node.stage_info["models"] == ["generator: gemma-3-270m"]
    assert node.parents[0].table == "behaviors"
    assert {p.row["product_id"] for p in node.parents[0].parents} == {"P1", "P2"}
    files = node.input_files()
    assert (str(tmp_path / "pairs.csv"), 2) in files  # file line numbers: line 1 is the header
    assert (str(tmp_path / "products.csv"), 2) in files and (str(tmp_path / "products.csv"), 3) in files
    assert trace(ws, "no-such-id") is None
