"""The filter stage end to end: every candidate scored, nothing dropped silently, scores stored once."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from intentkg.errors import IntentkgError
from intentkg.filter import FilterConfig, Thresholds, load_operating_point, run_filter, write_view
from intentkg.filter.stage import funnel_at
from intentkg.filter.view import iter_view
from intentkg.schemas import SCORES
from intentkg.workspace import Workspace
from intentkg.workspace.fingerprint import sha256_file


def test_every_candidate_has_one_scores_row(filtered_ws):
    ws = Workspace(filtered_ws)
    scores = pq.read_table(ws.table_path("filter", "scores"))
    candidates = pq.read_table(ws.table_path("generate", "candidates"))
    assert scores.schema.equals(SCORES, check_metadata=False)
    # one row per candidate, ordered by content (behaviour, then candidate id), not by file position
    by_content = candidates.sort_by([("behavior_id", "ascending"), ("candidate_id", "ascending")])
    assert scores.column("candidate_id").to_pylist() == by_content.column("candidate_id").to_pylist()
    rows = scores.to_pylist()
    assert all(len(r["rule_flags"]) == len(r["rule_details"]) for r in rows)
    tails = dict(zip(candidates.column("candidate_id").to_pylist(), candidates.column("tail").to_pylist()))
    with_tail = [r for r in rows if tails[r["candidate_id"]]]
    assert all(r["input_similarity"] is not None and -1 <= r["input_similarity"] <= 1 for r in with_tail)
    assert all(r["plausibility"] is not None and r["typicality"] is not None for r in with_tail)
    assert {r["completeness_source"] for r in with_tail} == {"generation", "gemma-3-270m-q4_k_m.gguf"}
    assert {r["critic_id"] for r in with_tail} == {next(r["critic_id"] for r in with_tail)}
    assert all(r["tail_cluster"] for r in with_tail)


def test_duplicates_point_at_kept_representatives(filtered_ws):
    scores = pq.read_table(Workspace(filtered_ws).table_path("filter", "scores"))
    rows = {r["candidate_id"]: r for r in scores.to_pylist()}
    dups = [r for r in rows.values() if r["dup_of"]]
    assert dups, "the synthetic data has near-duplicates"
    for r in dups:
        rep = rows[r["dup_of"]]
        assert rep["dup_of"] is None and rep["dup_count"] >= 1 and r["dup_count"] == 0
        assert r["dup_kind"] in ("exact", "lexical", "semantic") and 0 < r["dup_similarity"] <= 1
    assert sum(r["dup_count"] for r in rows.values()) == len(dups)


def test_rejected_rows_always_have_reasons_and_the_funnel_is_recorded(filtered_ws):
    ws = Workspace(filtered_ws)
    manifest = ws.manifest("filter")
    funnel = manifest.counts["funnel"]
    total = funnel["total"]
    assert total["candidates"] == 600 and 0 < total["kept"] < 600
    assert set(funnel["by_kind"]) == {"co_buy", "search_buy"} and funnel["by_relation"]
    for reason in ("parse_failed", "circular", "incomplete", "generic_tail", "duplicate", "echo_product_type"):
        assert funnel["reasons"].get(reason, 0) > 0, reason
    assert {m.role for m in manifest.models} == {"embedder", "completeness", "critic"}
    point = load_operating_point(ws)
    seen = 0
    for batch in iter_view(ws, point):
        for row in batch.to_pylist():
            seen += 1
            assert row["kept"] == (not row["reasons"])
            assert (row["drop_step"] is None) == row["kept"]
    assert seen == 600


def test_thresholds_change_the_view_not_the_scores(filtered_ws, tmp_path):
    ws = Workspace(filtered_ws)
    path = ws.table_path("filter", "scores")
    digest, finished = sha256_file(path), ws.manifest("filter").finished_at
    strict = FilterConfig.model_validate(json.loads(json.dumps(ws.manifest("filter").config)))
    strict.thresholds = Thresholds(min_plausibility=0.99, max_input_similarity=0.5)
    _, funnel = run_filter(ws, strict, quiet=True)  # same scoring config: skipped, funnel re-derived
    assert sha256_file(path) == digest and ws.manifest("filter").finished_at == finished
    assert funnel.total()["kept"] < ws.manifest("filter").counts["funnel"]["total"]["kept"]
    assert load_operating_point(ws).min_plausibility == 0.99
    loose = funnel_at(ws, Thresholds(min_completeness=None, max_input_similarity=None, min_plausibility=None,
                                     ignore_flags=["generic_tail"], drop_duplicates=False))
    assert loose.total()["kept"] > funnel.total()["kept"]
    counts = write_view(ws, Thresholds(), tmp_path / "kept.parquet", only_kept=True)
    assert pq.read_table(tmp_path / "kept.parquet").num_rows == counts["kept"] > 0


def test_missing_candidates_says_what_to_run(tmp_path):
    with pytest.raises(IntentkgError, match="intentkg generate"):
        run_filter(Workspace(tmp_path / "empty"), quiet=True)
