"""vLLM offline batch: runs only where vllm imports and a GPU is lent; otherwise skipped with the reason."""

from __future__ import annotations

import pytest

from intentkg.errors import ConfigError
from intentkg.llm import registry
from intentkg.llm.protocol import Request, SamplingParams
from intentkg.llm.vllm_offline import vllm_available

AVAILABLE, WHY = vllm_available()


@pytest.mark.skipif(AVAILABLE, reason="vllm is available here; the refusal path is not reachable")
def test_without_vllm_or_gpu_the_backend_says_why():
    with pytest.raises(ConfigError, match="the vllm backend cannot run here: (vllm not importable|no GPU)"):
        registry.create("vllm", model="any")


@pytest.mark.gpu
@pytest.mark.skipif(not AVAILABLE, reason=WHY or "vllm not importable / no GPU")
def test_vllm_generates_seeded_samples_with_logprobs(tmp_path):  # pragma: no cover - needs a GPU
    import os

    model = os.environ.get("INTENTKG_VLLM_TEST_MODEL", "HuggingFaceTB/SmolLM2-135M-Instruct")
    backend = registry.create("vllm", model=model, gpu_memory_utilization=0.3, max_model_len=1024)
    params = SamplingParams(temperature=0.8, max_tokens=16, n=2, seed=1, stop=("\n\n",))
    requests = [Request(key=f"v{i}", params=params, prompt=f"List reasons to buy a tent, {i}:\n1.") for i in range(3)]
    first = backend.generate(requests)
    again = backend.generate(requests[1:2])
    assert [r.key for r in first] == ["v0", "v1", "v2"] and all(len(r.completions) == 2 for r in first)
    assert [c.text for c in again[0].completions] == [c.text for c in first[1].completions]
    assert first[0].completions[0].token_logprobs
