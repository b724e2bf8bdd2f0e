"""train-critic end to end on a slice of the bundled annotations (1 epoch, short inputs), then the
filter stage's critic step loads the folder unchanged and reproduces the calibrated probabilities."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from helpers.filter_workspace import ANNOTATED_ROWS, trained_critic_base, trained_critic_workspace

pytest.importorskip("transformers")

ROWS = ANNOTATED_ROWS


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    return trained_critic_workspace(trained_critic_base(tmp_path_factory))  # shared with the filter tests


def test_folder_layout_metrics_and_snapshot(ws):
    folder = ws / "critic"
    meta = json.loads((folder / "intentkg_critic.json").read_text())
    for task in ("plausibility", "typicality"):
        assert (folder / task / "model.safetensors").exists() and (folder / task / "tokenizer.json").exists()
        assert not list((folder / task).glob("*.bin"))  # safetensors only
        config = json.loads((folder / task / "config.json").read_text())
        assert config["id2label"] == {"0": "no", "1": "yes"}
        assert 0.0 <= meta["thresholds"][task] <= 1.0
        test = meta["metrics"][task]["test"]
        assert test["n"] > 0 and test["roc_auc"] is not None and set(test["precision_at_recall"]) == {"0.5", "0.7", "0.8", "0.9"}
        assert meta["calibration"][task]["folded_into_weights"] is True
    assert meta["template"] == "{head} | {relation} | {tail}" and meta["max_length"] == 32
    annotate = json.loads((ws / "annotate" / "manifest.json").read_text())
    assert meta["annotations"]["snapshot_sha256"] == annotate["extra"]["snapshot_sha256"]
    training = pq.read_table(folder / "training_labels.parquet").to_pylist()
    assert len(training) == ROWS // 2 and {r["split"] for r in training} == {"train", "dev", "test"}
    from intentkg.operating_point import critic_thresholds

    _, chosen = critic_thresholds(folder)
    assert chosen["min_plausibility"] == meta["thresholds"]["plausibility"]
    assert chosen.get("min_typicality") == meta["thresholds"].get("typicality")


def test_filter_critic_step_loads_it_unchanged(ws):
    from intentkg.filter.critic import Critic

    meta = json.loads((ws / "critic" / "intentkg_critic.json").read_text())
    critic = Critic(ws / "critic")
    assert critic.tasks == ["plausibility", "typicality"] and critic.max_length == 32
    assert critic.critic_id == meta["critic_id"]
    labels = {r["candidate_id"]: r for r in pq.read_table(ws / "critic" / "training_labels.parquet").to_pylist()}
    preds = [p for p in pq.read_table(ws / "critic" / "critic_predictions.parquet").to_pylist() if p["split"] == "test"]
    for task in ("plausibility", "typicality"):
        rows = [p for p in preds if p["task"] == task]
        scored = critic.score([labels[p["candidate_id"]]["head"] for p in rows],
                              [labels[p["candidate_id"]]["relation"] for p in rows],
                              [labels[p["candidate_id"]]["tail"] for p in rows])
        assert np.allclose(scored[task], [p["calibrated"] for p in rows], atol=2e-3)


def test_rerun_is_skipped_and_report_shows_metrics(ws):
    from intentkg.critic.stage import CriticConfig, run_train_critic
    from intentkg.critic.train import TrainConfig
    import intentkg.annotate.report_section  # noqa: F401  (registers the annotate section, as `intentkg report` does)
    from intentkg.report.build import build_report

    before = json.loads((ws / "critic" / "manifest.json").read_text())["finished_at"]
    run_train_critic(ws, CriticConfig(train=TrainConfig(epochs=1, max_length=32, batch_size=16)))
    assert json.loads((ws / "critic" / "manifest.json").read_text())["finished_at"] == before
    html = build_report(ws).read_text()
    assert 'id="critic"' in html and "ROC-AUC" in html and 'id="annotate"' in html and "Cohen" in html


def test_filter_stage_scores_with_the_trained_critic(ws, tmp_path):
    from intentkg.filter import FilterConfig, run_filter
    from intentkg.filter.synthetic import write_synthetic_workspace

    other = write_synthetic_workspace(tmp_path / "filter-ws", 60, seed=3, logprob_share=1.0)
    config = FilterConfig.model_validate({"critic": {"path": str(ws / "critic")}, "completeness": {"scorer": "generation"}})
    run_filter(other, config, quiet=True)
    scores = pq.read_table(other.table_path("filter", "scores")).to_pylist()
    meta = json.loads((ws / "critic" / "intentkg_critic.json").read_text())
    scored = [s for s in scores if s["plausibility"] is not None]
    assert scored and all(0 <= s["plausibility"] <= 1 and 0 <= s["typicality"] <= 1 for s in scored)
    assert {s["critic_id"] for s in scored} == {meta["critic_id"]}

    # the next active-learning round: candidates the critic is least sure about, none already in the store
    from intentkg.annotate.sampling import SampleConfig, prepare, uncertainty_of
    from intentkg.annotate.stage import run_sample
    from intentkg.annotate.store import Store

    run_sample(other, SampleConfig(n=10, pilot=0, seed=0))
    first = {i.item_id for i in Store.for_workspace(other.root).items()}
    _, added = run_sample(other, SampleConfig(n=5, pilot=0, strategy="uncertainty", audit_fraction=0))
    items = [i for i in Store.for_workspace(other.root).items() if i.item_id not in first]
    assert added == len(items) > 0 and {i.batch for i in items} == {"active"}
    flagged = {s["candidate_id"] for s in scores if s["rule_flags"] or s["dup_of"]}
    doubt = {s["candidate_id"]: uncertainty_of(s["plausibility"], s["typicality"]) for s in scored}
    rows = prepare(other.read("generate", "candidates").to_pylist(), other.read("ingest", "behaviors").to_pylist(),
                   flagged, doubt, first)
    most = {}
    for r in rows:
        most[r["stratum"]] = max(most.get(r["stratum"], 0.0), r["uncertainty"] or 0.0)
    assert all(i.uncertainty == pytest.approx(most[i.stratum]) for i in items)  # each stratum's most doubtful


def test_too_few_labels_is_a_clear_error(tmp_path):
    from intentkg.annotate.formats import import_file
    from intentkg.annotate.store import Store
    from intentkg.critic.stage import run_train_critic
    from intentkg.demo_data import demo_path
    from intentkg.errors import IntentkgError

    subset = tmp_path / "tiny.jsonl"
    subset.write_text("".join(demo_path("annotated_candidates.jsonl").read_text().splitlines(True)[:20]))
    import_file(Store.for_workspace(tmp_path / "ws"), subset)
    with pytest.raises(IntentkgError, match="too few labelled candidates"):
        run_train_critic(tmp_path / "ws")


def test_a_long_head_does_not_hide_the_tail(ws):
    """The tail decides the score even when the head fills max_length (32 here): inputs lose tokens
    from the left. Old code cut the right end, so every tail after a long head scored the same."""
    from intentkg.filter.critic import Critic

    critic = Critic(ws / "critic")
    head = ("Tailspring Trainer Dog Leash, Hands-Free Reflective Bungee Lead for Running and Walking || "
            "Muttsy Chew No-Pull Dog Harness, Reflective Adjustable Vest for Large Dogs")
    scores = critic.score([head] * 3, ["used_for_event"] * 3, ["hiking with a dog", "the", "baking pizza"])
    for task in ("plausibility", "typicality"):
        assert len(set(scores[task].tolist())) == 3, (task, scores[task])
