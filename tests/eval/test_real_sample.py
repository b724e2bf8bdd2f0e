"""The evaluation on the real ESCI rows in ../shared/data/esci-sample: ingest (train split), a KG over
its search behaviours, then ``eval esci`` unchanged."""

import hashlib

import pyarrow as pa

from intentkg.eval.config import EvalConfig
from intentkg.eval.esci_data import EsciDataConfig
from intentkg.eval.stage import run_esci_eval
from intentkg.ingest import IngestConfig, run_ingest
from intentkg.ingest.config import EsciSource
from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig
from intentkg.schemas import conform
from intentkg.workspace import Workspace


def _kg_from_real_rows(ws: Workspace) -> None:
    """Candidates stand in for an LLM: the last two words of each purchased query as a function."""
    rows, scores = [], []
    for b in ws.read("ingest", "behaviors").to_pylist():
        tail = " ".join(b["left"].split()[-2:])
        cid = hashlib.md5(b["behavior_id"].encode()).hexdigest()[:16]
        rows.append({"candidate_id": cid, "behavior_id": b["behavior_id"], "kind": b["kind"], "head": b["left_text"],
                     "relation": "used_for_function", "tail": tail, "position": 1, "raw_text": f"1. {tail}",
                     "parse_status": "ok", "prompt_id": "test", "template_version": "1", "model_id": "test",
                     "model_hash": "x", "request_key": cid, "sample": 0})
        scores.append({"candidate_id": cid, "rule_flags": [], "rule_details": [], "dup_count": 0,
                       "plausibility": 0.8, "typicality": 0.8})
    with ws.run("generate", config={}, inputs=["ingest"]) as run:
        run.write("candidates", conform(pa.Table.from_pylist(rows), "candidates"))
    with ws.run("filter", config={}, inputs=["generate"]) as run:
        run.write("scores", conform(pa.Table.from_pylist(scores), "scores"))
    run_build(ws, BuildConfig(hierarchy=False))


def test_eval_runs_on_the_real_esci_sample(shared_data, tmp_path):
    folder = shared_data / "esci-sample"
    ws = Workspace(tmp_path / "ws")
    run_ingest(IngestConfig(sources=[EsciSource(path=folder)]), ws)  # train split only, as by default
    _kg_from_real_rows(ws)
    config = EvalConfig(data=EsciDataConfig(path=folder), encoders=["bi"], heads=["logreg"], tasks=["esci"],
                        seeds=1, n_boot=100)
    doc = run_esci_eval(ws, config)
    top = doc["headline"]
    assert top["n_pairs"] == 34 and top["n_queries"] == 34
    assert doc["data"]["split_train"]["pairs"] == 165
    # test queries were never ingested; each sample product was bought after one query only, so with
    # unseen=own a pair's knowledge comes from *other* queries and products (nearest by embedding)
    for split in ("train", "test"):
        sources = doc["coverage"][split]["by_source"]
        assert sources["query"] == 0 and sources["product"] == 0 and sources["product_nearest"] > 0
    seen = run_esci_eval(ws, config.model_copy(update={"knowledge": config.knowledge.model_copy(
        update={"unseen": "test"}), "stage": "eval-esci-test"}))
    # their own purchases count again: every Exact training pair (ingest keeps E as search_buy)
    assert seen["coverage"]["train"]["by_source"]["product"] == seen["coverage"]["train"]["by_source"]["query"] == 0.7152
