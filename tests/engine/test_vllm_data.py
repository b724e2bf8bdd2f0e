"""vLLM replicas through Ray Data LLM: runs only where vLLM imports and a GPU is lent."""

from __future__ import annotations

import pytest

from intentkg.engine import vllm_data
from intentkg.llm.protocol import Request, SamplingParams, sample_seed

AVAILABLE, WHY = vllm_data.available()


def test_every_sample_is_one_row_with_the_seed_the_offline_backend_draws():
    params = SamplingParams(n=2, max_tokens=8, stop=("\n\n",))
    rows = vllm_data.sample_rows([Request(key="k", params=params, prompt="Why buy a tent?\n1.")])
    assert [(r["idx"], r["sample"]) for r in rows] == [(0, 0), (0, 1)]
    assert [r["sampling_params"]["seed"] for r in rows] == [sample_seed("k", 0), sample_seed("k", 1)]
    assert rows[0]["sampling_params"]["stop"] == ["\n\n"] and rows[0]["messages"] is None


@pytest.mark.gpu
@pytest.mark.skipif(not AVAILABLE, reason=WHY or "no GPU / vLLM not importable")
def test_vllm_replicas_answer_every_sample(ray_cluster):  # pragma: no cover - needs a GPU
    import os

    from intentkg.engine import open_engine
    from intentkg.llm.transformers_backend import local_model_dir

    model = local_model_dir(os.environ.get("INTENTKG_VLLM_TEST_MODEL", "HuggingFaceTB/SmolLM2-135M-Instruct"), None)
    engine = open_engine({"name": "ray", "workers": 1, "gpus_per_worker": 1})
    params = SamplingParams(temperature=0.8, max_tokens=16, n=2, seed=1)
    requests = [Request(key=f"v{i}", params=params, prompt=f"List reasons to buy a tent, {i}:\n1.") for i in range(3)]
    stored = []
    assert vllm_data.generate(engine, str(model), requests, lambda r, res: stored.extend(res)) == 3
    assert sorted(r.key for r in stored) == ["v0", "v1", "v2"] and all(len(r.completions) == 2 for r in stored)
