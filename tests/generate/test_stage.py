"""The generate stage with a fake backend: schema, provenance, skip, cache, failures, resume."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from helpers.fake_llm import FakeBackend
from intentkg.errors import IntentkgError
from intentkg.generate import GenerateConfig, run_generate
from intentkg.generate.request_cache import RequestCache
from intentkg.generate.stage import cache_folder
from intentkg.schemas import CANDIDATES
from intentkg.workspace import Workspace


def _config(**changes) -> GenerateConfig:
    data = {"backend": {"name": "fake", "model": "fake-1"}, "relations": ["used_for_function", "xWant"],
            "selection": {"limit": 6}}
    data.update(changes)
    return GenerateConfig.model_validate(data)


def test_candidates_follow_the_contract_with_provenance(demo_ws):
    manifest = run_generate(_config(), demo_ws)
    table = pq.read_table(demo_ws / "generate" / "candidates.parquet")
    assert table.schema.equals(CANDIDATES)
    rows = table.to_pylist()
    assert len(rows) == 6 * 2 * 2 and {r["parse_status"] for r in rows} == {"ok"}
    assert {r["relation"] for r in rows} == {"used_for_function", "xWant"}
    assert {r["kind"] for r in rows} == {"co_buy", "search_buy"}
    first = rows[0]
    assert first["prompt_id"] == "qa_fewshot" and first["template_version"].startswith("1-")
    assert first["model_id"] == "fake-1" and first["model_hash"] == "fakehash"
    assert first["tail"].startswith("thing ") and first["position"] == 1 and first["raw_text"].startswith(" thing")
    assert first["tail_logprob"] == pytest.approx(-0.75) and first["tail_tokens"] == 2
    behaviors = {b["behavior_id"]: b for b in Workspace(demo_ws).read("ingest", "behaviors").to_pylist()}
    for row in rows:
        b = behaviors[row["behavior_id"]]
        assert row["head"].startswith(b["left_text"].split()[0]) and row["kind"] == b["kind"]
    c = manifest.counts
    assert c["requests"] == 12 and c["backend_calls"] == 12 and c["cache_hits"] == 0 and c["tokens_out"] == 72
    assert c["tokens_in"] == 120 and c["tokens_per_second"] > 0 and c["parse_status"] == {"ok": 24}
    assert manifest.models[0].role == "generator" and manifest.config["resolved"]["template"] == "qa_fewshot"
    assert len(table.column("candidate_id").unique()) == table.num_rows


def test_unchanged_rerun_is_skipped_and_forced_rerun_is_all_cache_hits(demo_ws):
    run_generate(_config(), demo_ws)
    before = pq.read_table(demo_ws / "generate" / "candidates.parquet")
    run_generate(_config(), demo_ws)
    assert FakeBackend.instances[-1].calls == []
    manifest = run_generate(_config(), demo_ws, force=True)
    assert FakeBackend.instances[-1].calls == [] and manifest.counts["cache_hits"] == 12
    assert pq.read_table(demo_ws / "generate" / "candidates.parquet").equals(before)
    # a larger sample reuses the cached calls of the smaller one
    manifest = run_generate(_config(selection={"limit": 8}), demo_ws)
    assert manifest.counts["cache_hits"] == 12 and manifest.counts["backend_calls"] == 4


def test_failed_calls_fail_the_stage_and_a_rerun_retries_only_them(demo_ws):
    with pytest.raises(IntentkgError, match=r"of 12 LLM calls failed .*synthetic failure.*run `intentkg generate` again"):
        run_generate(_config(backend={"name": "fake", "model": "fake-1", "options": {"fail_every": 3}}), demo_ws)
    failed = [k for k in FakeBackend.instances[-1].calls if int(k[:6], 16) % 3 == 0]
    assert failed and Workspace(demo_ws).manifest("generate").status == "failed"
    with RequestCache(cache_folder(Workspace(demo_ws))) as cache:
        assert cache.count() == 12 - len(failed)
    manifest = run_generate(_config(), demo_ws)
    assert sorted(FakeBackend.instances[-1].calls) == sorted(failed)
    assert manifest.status == "complete" and manifest.counts["cache_hits"] == 12 - len(failed)


def test_tolerated_failures_leave_those_calls_out(demo_ws):
    config = _config(backend={"name": "fake", "model": "fake-1", "options": {"fail_every": 3}}, max_failed_fraction=1.0)
    manifest = run_generate(config, demo_ws)
    assert manifest.counts["failed_calls"] == manifest.counts["calls_without_answer"] > 0


def test_a_backend_that_reorders_results_is_refused(demo_ws):
    with pytest.raises(IntentkgError, match="in another order; nothing from this batch was kept"):
        run_generate(_config(backend={"name": "fake", "model": "fake-1", "options": {"misalign": True}}), demo_ws)
    with RequestCache(cache_folder(Workspace(demo_ws))) as cache:
        assert cache.count() == 0


def test_chat_models_get_chat_prompts_and_samples_are_numbered(demo_ws):
    config = _config(backend={"name": "fake", "model": "fake-1", "options": {"chat": True}}, sampling={"n": 3}, relations=["is_a"],
                     selection={"limit": 2})
    manifest = run_generate(config, demo_ws)
    rows = pq.read_table(demo_ws / "generate" / "candidates.parquet").to_pylist()
    assert manifest.config["resolved"]["template"] == "qa_chat" and {r["prompt_id"] for r in rows} == {"qa_chat"}
    assert sorted({r["sample"] for r in rows}) == [0, 1, 2] and rows[0]["tail"].startswith("chat ")
    assert len({r["raw_text"] for r in rows}) == 6  # every sample drew its own seed


def test_without_ingest_the_error_says_what_to_run(tmp_path):
    with pytest.raises(IntentkgError, match="run `intentkg ingest` first"):
        run_generate(_config(), tmp_path / "empty")
