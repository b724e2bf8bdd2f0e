"""End to end on a tiny KG and ESCI set with the real bundled MiniLM (bi- and cross-encoder)."""

import json

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from intentkg.errors import IntentkgError
from intentkg.eval.config import EvalConfig, KnowledgeConfig
from intentkg.eval.esci_data import EsciDataConfig
from intentkg.eval.stage import read_results, run_esci_eval
from intentkg.report.registry import ReportContext


def _config(esci_dir, **knowledge):
    return EvalConfig(data=EsciDataConfig(path=esci_dir), heads=["logreg"], seeds=1, n_boot=100,
                      knowledge=KnowledgeConfig(min_similarity=0.3, **knowledge))


def test_both_encoders_with_and_without_knowledge(eval_ws, esci_dir):
    doc = run_esci_eval(eval_ws, _config(esci_dir))
    assert {(r["encoder"], r["task"]) for r in doc["results"]} == {
        ("bi", "esci"), ("cross", "esci"), ("bi", "substitute"), ("cross", "substitute")}
    top = doc["headline"]
    assert (top["encoder"], top["task"], top["metric"]) == ("cross", "esci", "macro_f1")
    assert top["n_pairs"] == 15 and top["n_queries"] == 3 and len(top["abs_ci"]) == 2
    assert read_results(eval_ws) == json.loads(json.dumps(doc))
    folder = eval_ws.stage_dir("eval-esci")
    predictions = pq.read_table(folder / "predictions.parquet")
    assert predictions.num_rows == 15 * 2 * 2 * 4  # test pairs x encoders x tasks x settings (with, without, 2 controls)
    knowledge = {(r["query"], r["product_id"]): r for r in pq.read_table(folder / "knowledge.parquet").to_pylist()}
    unseen = knowledge[("camping gear for winter trips", "M1")]
    assert "query_nearest" in unseen["sources"] and "query" not in unseen["sources"]
    assert unseen["knowledge"].startswith("query intent: ") and "winter camping" in unseen["knowledge"]
    # unseen=own: even a training query in the KG answers through its neighbours, not itself
    assert "query" not in knowledge[("winter camping gear", "M1")]["sources"]
    assert doc["coverage"]["test"]["any"] > 0.5
    manifest = eval_ws.manifest("eval-esci")
    assert {m.role for m in manifest.models} == {"bi_encoder", "cross_encoder"}
    first_misses = manifest.counts["embedding_cache_misses"]
    assert first_misses > 0

    again = run_esci_eval(eval_ws, _config(esci_dir))  # unchanged: skipped
    assert again == read_results(eval_ws) and eval_ws.manifest("eval-esci").finished_at == manifest.finished_at

    run_esci_eval(eval_ws, _config(esci_dir, top_k=1))  # another knowledge setting
    misses = eval_ws.manifest("eval-esci").counts["embedding_cache_misses"]
    assert 0 < misses < first_misses  # the without-knowledge texts came from the cache

    html = ReportContext(eval_ws)
    from intentkg.eval.report_section import render

    page = render(html)
    assert "<svg" in page and "macro-F1 lift" in page and "eval-esci" in page


def test_unseen_none_uses_the_query_itself(eval_ws, esci_dir):
    doc = run_esci_eval(eval_ws, _config(esci_dir, unseen="none").model_copy(
        update={"encoders": ["bi"], "tasks": ["esci"], "stage": "eval-esci-none"}))
    assert doc["coverage"]["train"]["by_source"]["query"] > 0
    assert doc["knowledge_stats"]["unseen"] == "none"


def test_errors_before_any_model_loads(tmp_path, esci_dir):
    from intentkg.workspace import Workspace

    with pytest.raises(IntentkgError, match="has no KG"):
        run_esci_eval(Workspace(tmp_path / "empty"), _config(esci_dir))
    one_split = _config(esci_dir).model_copy(update={"data": EsciDataConfig(path=esci_dir, test_split="dev")})
    with pytest.raises(IntentkgError, match="'dev'"):
        run_esci_eval(Workspace(tmp_path / "empty"), one_split)


def test_cli_prints_the_lift(eval_ws, esci_dir):
    from intentkg.cli.main import cli

    result = CliRunner().invoke(cli, ["eval", "esci", str(esci_dir), "-w", str(eval_ws.root), "--encoder", "bi",
                                      "--head", "logreg", "--task", "esci", "--seeds", "1", "--bootstrap", "100",
                                      "--min-similarity", "0.3", "--stage", "eval-esci-cli"])
    assert result.exit_code == 0, result.output
    assert "knowledge lift, ESCI 4-class" in result.output and "95% CI" in result.output
    assert "coverage" in result.output
    assert "with - shuffled" in result.output and "with - filler" in result.output  # the table's columns
    shown = CliRunner().invoke(cli, ["eval", "show", str(eval_ws.root), "--stage", "eval-esci-cli"])
    assert shown.exit_code == 0 and "knowledge lift" in shown.output
    assert "controls: shuffled" in shown.output and "filler" in shown.output
    assert ("the lift COUNTS" in shown.output) != ("the lift does NOT count" in shown.output)  # one verdict
    missing = CliRunner().invoke(cli, ["eval", "show", str(eval_ws.root), "--stage", "nothing-here"])
    assert missing.exit_code != 0


def test_finetuned_variant(eval_ws, esci_dir):
    config = _config(esci_dir).model_copy(update={"encoders": ["bi"], "tasks": ["esci"], "stage": "eval-esci-ft"})
    config.finetune = config.finetune.model_copy(update={"enabled": True, "epochs": 1, "batch_size": 8,
                                                         "max_length": 32})
    doc = run_esci_eval(eval_ws, config)
    tuned = [r for r in doc["results"] if r["encoder"] == "cross-finetuned"]
    assert len(tuned) == 1 and tuned[0]["head"] == "linear" and tuned[0]["n_pairs"] == 15


def test_on_demand_knowledge_for_unseen_queries(eval_ws, esci_dir, tmp_path):
    """On-demand knowledge generated through llama.cpp (8 prompts, greedy, cached) by a student file given
    with --on-demand-model (the bundled Gemma under another file hash, its lineage declared), filtered,
    and injected: what the pairs get is what it wrote (read from the request cache); the student's file
    hash is an input of the evaluation and its lineage is in the results."""
    import json as json_
    import re
    import sqlite3

    from helpers.on_demand import on_demand_yaml
    from helpers.student import stand_in_gguf

    from intentkg.llm import bundled, model_lineage
    from intentkg.llm.model_files import file_hash

    path = tmp_path / "on_demand.yaml"
    path.write_text(on_demand_yaml(["used_for_event"]))
    student = stand_in_gguf(bundled.gemma_path(), tmp_path / "student.gguf")
    record = model_lineage.declare(student, "student", "test: the bundled Gemma as a student file")
    config = _config(esci_dir, on_demand=True, on_demand_config=str(path), on_demand_model=str(student)).model_copy(
        update={"encoders": ["bi"], "tasks": ["esci"], "stage": "eval-esci-od"})
    doc = run_esci_eval(eval_ws, config)
    assert doc["knowledge_stats"]["on_demand"]["queries"] == 8  # leave-own-out: no query answers itself
    (generator,) = doc["knowledge_stats"]["on_demand"]["generators"]
    digest = file_hash(student)
    assert digest != file_hash(bundled.gemma_path())
    assert (generator["model_hash"], generator["origin"], generator["lineage"]) == (digest, "declared", str(record))
    assert any(i.sha256 == digest for i in eval_ws.manifest("eval-esci-od").inputs)

    # what Gemma wrote, per query, straight from the request cache (not through the code under test)
    (cache,) = list(eval_ws.root.rglob("requests.sqlite"))
    with sqlite3.connect(cache) as con:
        calls = con.execute("SELECT prompt, completions FROM requests").fetchall()
    written: dict[str, set[str]] = {}
    for prompt, completions in calls:
        for query in {r["query"] for r in pq.read_table(eval_ws.stage_dir("eval-esci-od") / "knowledge.parquet"
                                                          ).to_pylist()}:
            if f'"{query}"' in prompt:
                for c in json_.loads(completions):
                    lines = ("1." + c["text"]).splitlines()
                    written.setdefault(query, set()).update(
                        m.group(1).strip().lower() for m in map(re.compile(r"^\s*\d+\.\s*(.+)$").match, lines)
                        if m and m.group(1).strip())
    assert len(written) == 8, sorted(written)  # one prompt per evaluated query

    rows = pq.read_table(eval_ws.stage_dir("eval-esci-od") / "knowledge.parquet").to_pylist()
    generated = [r for r in rows if "query_on_demand" in r["sources"]]
    assert len(generated) >= 0.5 * len(rows)  # Gemma's answers survive the filter for most queries
    for r in generated:  # the injected query side holds one of the tails Gemma wrote for that query
        text = " ".join(r["query_knowledge"].lower().split())
        assert any(tail in text for tail in written[r["query"]]), (r["query"], r["query_knowledge"])


def test_mlp_vote_is_one_head_of_seeds_members_fitted_once_per_setting(eval_ws, esci_dir):
    config = EvalConfig(data=EsciDataConfig(path=esci_dir), encoders=["bi"], heads=["mlp", "mlp_vote"],
                        tasks=["esci"], seeds=3, n_boot=100, primary=("bi", "mlp_vote", "esci", "macro_f1"),
                        knowledge=KnowledgeConfig(min_similarity=0.3), stage="eval-vote")
    doc = run_esci_eval(eval_ws, config)
    assert {r["head"] for r in doc["results"]} == {"mlp", "mlp_vote"}
    assert (doc["headline"]["head"], doc["headline"]["task"]) == ("mlp_vote", "esci")
    rows = pq.read_table(eval_ws.stage_dir("eval-vote") / "predictions.parquet").to_pylist()
    voted = {}
    for row in rows:
        if row["head"] == "mlp_vote":
            voted.setdefault((row["setting"], row["seed"]), []).append((row["example_id"], row["predicted"]))
    assert {seed for _, seed in voted} == {0, 1, 2}  # one row per seed, as the other heads write
    for setting in {s for s, _ in voted}:  # and the same prediction in each: the vote is fitted once
        assert voted[(setting, 0)] == voted[(setting, 1)] == voted[(setting, 2)]
    with_knowledge = {r["head"]: r["with"] for r in doc["results"]}
    assert with_knowledge["mlp_vote"]["macro_f1"]["seed_std"] == 0.0
