"""`intentkg distill data` on the bundled demo (its annotated candidates as the teacher's output, scored
by their annotations, half of them also human-labelled): five tasks, several phrasings, provenance,
a grouped split that never puts one behaviour or query in two splits, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from helpers.demo_kg import demo_kg_workspace
from intentkg.demo_data import demo_path
from intentkg.distill.data import SPLITS, STAGE, TABLE, DataConfig, run_distill_data, split_of_groups
from intentkg.distill.tasks import PHRASINGS, TASKS
from intentkg.errors import IntentkgError
from intentkg.ingest import run_ingest
from intentkg.ingest.demo import demo_config
from intentkg.workspace import Workspace


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from intentkg.annotate.formats import import_file
    from intentkg.annotate.formats.records import load_titles
    from intentkg.annotate.stage import run_export
    from intentkg.annotate.store import Store

    root = tmp_path_factory.mktemp("distill-data")
    ws = demo_kg_workspace(root / "ws")
    subset = root / "labels.jsonl"  # 100 candidates x 2 annotators: human labels for some, the critic for the rest
    subset.write_text("".join(demo_path("annotated_candidates.jsonl").read_text().splitlines(True)[:200]))
    import_file(Store.for_workspace(ws.root), subset, titles=load_titles(demo_path("products.csv")))
    run_export(ws)
    manifest = run_distill_data(ws, DataConfig(esci=demo_path("esci"), esci_max_queries=10))
    return ws, manifest, pq.read_table(ws.stage_dir(STAGE) / f"{TABLE}.parquet").to_pylist()


def test_every_task_is_built_in_several_phrasings_with_its_counts_in_the_manifest(built):
    ws, manifest, rows = built
    for task in TASKS:
        mine = [r for r in rows if r["task"] == task]
        assert mine, task
        assert {r["template_id"] for r in mine} == {p.id for p in PHRASINGS[task]}  # all phrasings are used
        for split in SPLITS:
            assert manifest.counts[f"{task}/{split}"] == sum(r["split"] == split for r in mine)
    assert manifest.counts["rows"] == len(rows)
    assert {i.name for i in manifest.inputs} >= {"ingest", "generate", "filter", "annotate"}


def test_answers_follow_their_sources(built):
    ws, manifest, rows = built
    labels = {r["candidate_id"]: r for r in ws.read("annotate", "labels").to_pylist()}
    scores = {r["candidate_id"]: r for r in ws.read("filter", "scores").to_pylist()}
    plaus = [r for r in rows if r["task"] == "plausibility"]
    human = [r for r in plaus if r["label_source"] == "human"]
    critic = [r for r in plaus if r["label_source"] == "critic"]
    assert human and critic
    for r in human:  # the human label wins, even where the critic's score says otherwise
        assert r["label"] == labels[r["source_ids"][0]]["plausibility"] and r["source_stage"] == "annotate"
    for r in critic:
        assert r["source_ids"][0] not in labels or labels[r["source_ids"][0]]["plausibility"] is None
        assert r["label"] == (scores[r["source_ids"][0]]["plausibility"] >= 0.5)
    assert all(r["completion"] == ("yes" if r["label"] else "no") for r in rows if r["task"] != "generation")
    # generation answers are the filter's kept tails as a numbered list, the prompt as generate sends it
    gen = [r for r in rows if r["task"] == "generation"]
    assert all(r["completion"].startswith("1. ") and r["label_source"] == "teacher_kept" for r in gen)
    qa = next(r for r in gen if r["template_id"] == "qa_chat")
    assert qa["prompt"][0]["role"] == "system" and len(qa["prompt"]) >= 3  # system, worked answers, question
    sources = {(r["task"], r["label_source"]) for r in rows}
    assert {("search_relevance", "search_buy"), ("search_relevance", "sampled_negative"),
            ("search_relevance", "esci"), ("co_purchase", "co_buy"), ("co_purchase", "sampled_negative")} <= sources
    negatives = [r for r in rows if r["task"] == "co_purchase" and r["label_source"] == "sampled_negative"]
    assert negatives and not any(r["label"] for r in negatives)


def test_no_group_spans_two_splits_and_a_behaviour_stays_in_one(built):
    ws, manifest, rows = built
    split_of: dict[str, set] = {}
    for r in rows:
        split_of.setdefault(r["group"], set()).add(r["split"])
        if r["behavior_id"]:
            split_of.setdefault("behaviour " + r["behavior_id"], set()).add(r["split"])
    assert all(len(s) == 1 for s in split_of.values())
    assert {r["split"] for r in rows} == set(SPLITS)
    assert manifest.extra["split"]["groups"]["test"] > 0


def test_the_split_is_seeded_and_keeps_whole_groups():
    groups = {f"g{i}" for i in range(50)}
    a, b = split_of_groups(groups, (0.8, 0.1, 0.1), 0), split_of_groups(set(sorted(groups, reverse=True)),
                                                                         (0.8, 0.1, 0.1), 0)
    assert a == b and sum(v == "train" for v in a.values()) == 40
    assert split_of_groups(groups, (0.8, 0.1, 0.1), 1) != a
    assert set(split_of_groups({"x", "y", "z"}, (0.8, 0.1, 0.1), 0).values()) == set(SPLITS)


def test_missing_stages_name_what_to_run(tmp_path):
    with pytest.raises(IntentkgError, match="no stage 'ingest'.*intentkg ingest"):
        run_distill_data(tmp_path / "empty")
    ws = Workspace(tmp_path / "ws")
    run_ingest(demo_config(), ws)
    with pytest.raises(IntentkgError, match="task 'generation' needs stage 'generate'.*intentkg generate -w"):
        run_distill_data(ws)
    manifest = run_distill_data(ws, DataConfig(tasks=["co_purchase", "search_relevance"]))
    assert manifest.counts["co_purchase/train"] > 0 and "generation/train" not in manifest.counts
