"""The generate stage with the real bundled Gemma 3 270M on a handful of behaviours."""

from __future__ import annotations

import math

import pyarrow.parquet as pq

from helpers.llm_models import gemma
from intentkg.generate import GenerateConfig, run_generate


def test_gemma_generates_parsed_candidates_with_logprobs(demo_ws):
    config = GenerateConfig.model_validate({"relations": ["used_for_function"], "selection": {"limit": 2},
                                            "sampling": {"max_tokens": 16, "seed": 3}})
    manifest = run_generate(config, demo_ws, backend=gemma())
    c = manifest.counts
    assert c["requests"] == 2 and c["backend_calls"] == 2 and c["tokens_out"] > 0 and c["tokens_per_second"] > 0
    rows = pq.read_table(demo_ws / "generate" / "candidates.parquet").to_pylist()
    assert {r["kind"] for r in rows} == {"co_buy", "search_buy"}
    assert all(r["model_id"] == "gemma3-270m" and r["prompt_id"] == "qa_fewshot" and r["raw_text"] for r in rows)
    ok = [r for r in rows if r["parse_status"] == "ok"]
    assert ok, rows
    assert all(r["tail"] and r["tail_logprob"] <= 0 and math.isfinite(r["tail_logprob"]) and r["tail_tokens"] >= 1
               for r in ok)
    again = run_generate(config, demo_ws, backend=gemma(), force=True)
    assert again.counts["backend_calls"] == 0 and again.counts["cache_hits"] == 2
