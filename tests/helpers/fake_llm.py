"""A deterministic fake LLM backend, registered as "fake" (also shows that a backend is one small class)."""

from __future__ import annotations

import hashlib

from intentkg.llm import registry
from intentkg.llm.protocol import Completion, ModelInfo, Result, sample_seed


class FakeBackend:
    """Deterministic answers from the request key; counts calls; can fail or misbehave on purpose."""

    name = "fake"
    instances: list["FakeBackend"] = []

    def __init__(self, model: str = "fake-1", chat: bool = False, fail_every: int = 0, misalign: bool = False,
                 batch: int = 3):
        self.model, self.chat, self.fail_every, self.misalign = model, chat, fail_every, misalign
        self.preferred_batch_size = batch
        self.calls: list[str] = []
        FakeBackend.instances.append(self)

    def info(self) -> ModelInfo:
        return ModelInfo(backend="fake", model_id=self.model, model_hash="fakehash", chat=self.chat)

    def generate(self, requests):
        results = []
        for request in requests:
            self.calls.append(request.key)
            if self.fail_every and int(request.key[:6], 16) % self.fail_every == 0:
                results.append(Result(request.key, error="RuntimeError: synthetic failure"))
                continue
            completions = []
            for i in range(request.params.n):
                h = hashlib.sha256(f"{request.key}{sample_seed(request.key, i)}".encode()).hexdigest()[:6]
                text = f" thing {h}\n2. other {h}" if request.prompt is not None else f"1. chat {h}\n2. more {h}"
                completions.append(Completion(text=text, finish_reason="stop", prompt_tokens=10, completion_tokens=6,
                                              token_logprobs=[-0.5, -1.0, -0.25], token_offsets=[0, 6, 13]))
            results.append(Result(request.key, completions))
        return results[::-1] if self.misalign else results

    def close(self) -> None:
        pass


registry.register("fake", FakeBackend)
