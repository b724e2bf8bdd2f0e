"""Knowledge sources in the evaluation: catalogue facts on the product side, relation subsets, the
ablation by source, and the controls beside every lift (real bundled MiniLM)."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from intentkg.eval.ablation import markdown, run_ablation
from intentkg.eval.config import EvalConfig, KnowledgeConfig
from intentkg.eval.esci_data import EsciDataConfig
from intentkg.eval.stage import read_results, run_esci_eval
from intentkg.knowledge.catalogue import FACTS, STAGE


def _catalogue(ws, rows):
    """A catalogue stage's output as the stage writes it (through a stage run)."""
    with ws.run(STAGE, config={"fixture": rows}) as run:
        run.write("facts", pa.Table.from_pylist(rows, schema=FACTS))


def _fact(product_id, tail, type_text):
    return {"product_id": product_id, "relation": "used_for_function", "intention": tail,
            "intention_id": f"intention:{tail}", "score": 0.8, "type_id": f"type:{type_text}", "type_text": type_text}


def _config(esci_dir, **knowledge):
    return EvalConfig(data=EsciDataConfig(path=esci_dir), encoders=["bi"], heads=["logreg"], tasks=["esci"],
                      seeds=1, n_boot=100, primary=("bi", "logreg", "esci", "macro_f1"),
                      knowledge=KnowledgeConfig(min_similarity=0.3, **knowledge))


def test_catalogue_facts_reach_the_product_side_and_controls_are_reported(eval_ws, esci_dir):
    _catalogue(eval_ws, [_fact("B1", "swaddling a newborn", "swaddle"), _fact("T1", "sheltering from snow", "tent")])
    doc = run_esci_eval(eval_ws, _config(esci_dir, kg=False).model_copy(update={"stage": "eval-esci-cat"}))
    knowledge = {(r["query"], r["product_id"]): r
                 for r in pq.read_table(eval_ws.stage_dir("eval-esci-cat") / "knowledge.parquet").to_pylist()}
    pair = knowledge[("things for a newborn", "B1")]
    assert pair["sources"] == ["product_catalogue"] and "used for function swaddling a newborn" in pair["knowledge"]
    assert knowledge[("things for a newborn", "M1")]["knowledge"] == ""
    assert doc["coverage"]["test"]["by_source"]["product_catalogue"] == 0.4  # B1 and T1 of 5 products
    assert doc["knowledge_stats"]["catalogue"] == {"used": True, "products": 2, "pairs_with_facts": 16}
    (result,) = doc["results"]
    assert set(result["controls"]) == {"shuffled", "filler"}
    assert set(result["decision"]["comparisons"]) == {"without", "shuffled", "filler"}
    assert result["decision"]["primary"] and doc["decision"]["primary"] == ["bi", "logreg", "esci", "macro_f1"]
    assert set(doc["headline"]["controls"]) == {"shuffled", "filler"}
    settings = pq.read_table(eval_ws.stage_dir("eval-esci-cat") / "predictions.parquet").column("setting")
    assert set(settings.to_pylist()) == {"without", "with", "shuffled", "filler"}


def test_relations_subset_keeps_only_those_facts(eval_ws, esci_dir):
    doc = run_esci_eval(eval_ws, _config(esci_dir, relations=["used_for_audience"]).model_copy(
        update={"stage": "eval-esci-rel", "controls": False}))
    texts = pq.read_table(eval_ws.stage_dir("eval-esci-rel") / "knowledge.parquet").column("knowledge").to_pylist()
    assert any(texts) and all("used for event" not in t for t in texts)
    assert all("used for audience" in t for t in texts if t)
    assert "controls" not in doc["results"][0] and not doc["results"][0]["decision"]["counts"]


def test_ablation_by_source(eval_ws, esci_dir):
    _catalogue(eval_ws, [_fact("B1", "swaddling a newborn", "swaddle")])
    rows = run_ablation(eval_ws, _config(esci_dir), sets=["product-only", "behaviour"])
    assert [r["name"] for r in rows] == ["product-only", "behaviour"]
    assert rows[0]["by_source"] == {"product_catalogue": 0.2}
    assert "product_catalogue" not in rows[1]["by_source"] and rows[1]["coverage"] > 0.5
    assert all(len(r["vs_shuffled_ci"]) == 2 and len(r["vs_filler_ci"]) == 2 for r in rows)
    # one family: product-only is listed first but 'all' is absent, so product-only is the primary here
    assert rows[0]["primary"] and rows[0]["adjustment"].startswith("none")
    assert not rows[1]["primary"] and rows[1]["adjustment"] == "holm"
    assert all(p is not None for p in rows[1]["p_holm"].values())
    # the replicates rebuilt from the stored predictions are the ones the evaluation drew itself
    own = read_results(eval_ws, "eval-esci-product-only")["headline"]["decision"]["comparisons"]
    assert rows[0]["lift_ci"] == pytest.approx(own["without"]["ci"])
    assert rows[0]["vs_filler_ci"] == pytest.approx(own["filler"]["ci"])
    table = markdown(rows)
    assert table.count("\n") == 3 and "| product-only | 20% |" in table and "(primary)" in table
    assert (eval_ws.stage_dir("eval-ablation") / "ablation.json").exists()
