from __future__ import annotations

import pytest

from intentkg.errors import ConfigError
from intentkg.llm import registry
from intentkg.llm.protocol import (Backend, Completion, ModelInfo, Request, SamplingParams, offsets_from_pieces,
                                   sample_seed, span_logprob)


def test_builtin_backends_are_listed():
    assert {"llama_cpp", "transformers", "openai", "vllm"} <= set(registry.available())
    with pytest.raises(ConfigError, match="unknown LLM backend 'nope'; choose one of"):
        registry.create("nope")


def test_a_backend_is_one_small_class():
    @registry.register("tiny_test")
    class Tiny:
        name = "tiny_test"
        preferred_batch_size = 1

        def __init__(self, model: str = "m"):
            self.model = model

        def info(self):
            return ModelInfo("tiny_test", self.model, "h", chat=False)

        def generate(self, requests):
            return []

        def close(self):
            pass

    backend = registry.create("tiny_test", model="x")
    assert isinstance(backend, Backend) and backend.info().model_id == "x"
    with pytest.raises(ConfigError, match="valid options: model"):
        registry.create("tiny_test", modle="x")


def test_seeds_offsets_and_span_logprobs():
    assert sample_seed("k", 0) == sample_seed("k", 0) != sample_seed("k", 1)
    assert 0 <= sample_seed("k", 3) < 2**31
    assert offsets_from_pieces([" a", "bc", "", "d"], 4) == [0, 2, 4, 4]
    c = Completion(text="ab cd ef", token_logprobs=[-1.0, -2.0, -3.0, float("nan")], token_offsets=[0, 2, 5, 7])
    assert span_logprob(c, 3, 5) == (-2.0, 1)
    assert span_logprob(c, 0, 8) == (-2.0, 3)  # NaN is skipped
    assert span_logprob(Completion(text="x"), 0, 1) == (None, None)
    with pytest.raises(ValueError):
        Request(key="k", params=SamplingParams())
