"""vLLM offline batch inference (``LLM.generate``) on GPUs, behind a thin adapter.

vLLM's API moves fast; everything vLLM-specific is in this file. Each sample is its own vLLM
request with its own seed (``SamplingParams(seed=...)``), so an answer does not depend on what
else is in the batch. Chat prompts are rendered with the tokenizer's chat template. Weights load
with ``trust_remote_code=False``; pass ``load_format="safetensors"`` (the default here) to refuse
pickled weights.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

from intentkg.errors import ConfigError
from intentkg.llm.hf_folder import HFFolderModel
from intentkg.llm.protocol import Completion, ModelInfo, Request, Result, sample_seed
from intentkg.llm.registry import register
from intentkg.model_folder import resolve


def vllm_available() -> tuple[bool, str]:
    """(True, "") when vllm imports and a CUDA device is visible, else (False, why not)."""
    try:
        import vllm  # noqa: F401
    except Exception as exc:  # ImportError, or a CUDA/driver error raised at import
        return False, f"vllm not importable ({type(exc).__name__}: {exc})"
    try:
        import torch

        if not torch.cuda.is_available():
            return False, "no GPU (torch.cuda.is_available() is False)"
    except Exception as exc:
        return False, f"cannot query the GPU: {exc}"
    return True, ""


@register("vllm")
class VllmOfflineBackend(HFFolderModel):
    name = "vllm"
    preferred_batch_size = 256

    def __init__(self, model: str, chat: bool | None = None, revision: str | None = None,
                 gpu_memory_utilization: float = 0.85, max_model_len: int | None = 4096,
                 tensor_parallel_size: int = 1, dtype: str = "auto", load_format: str = "safetensors",
                 engine_args: dict[str, Any] | None = None):
        ok, why = vllm_available()
        if not ok:
            raise ConfigError(f"the vllm backend cannot run here: {why}")
        self.model, self.revision = model, revision
        self.path = resolve(model, revision, what="model").path
        self.engine_args = dict(gpu_memory_utilization=gpu_memory_utilization, max_model_len=max_model_len,
                                tensor_parallel_size=tensor_parallel_size, dtype=dtype, load_format=load_format,
                                **(engine_args or {}))
        self._chat = chat
        self._llm = None
        self._tokenizer = None
        self._info: ModelInfo | None = None

    def load(self) -> None:
        if self._llm is None:
            from vllm import LLM

            self._llm = LLM(model=str(self.path), trust_remote_code=False, seed=0, **self.engine_args)

    def _prompt(self, request: Request) -> str:
        if request.messages is None:
            return request.prompt  # type: ignore[return-value]
        return self.tokenizer.apply_chat_template([dict(m) for m in request.messages], tokenize=False,
                                                  add_generation_prompt=True)

    def _params(self, request: Request, sample: int):
        from vllm import SamplingParams

        p = request.params
        return SamplingParams(n=1, temperature=p.temperature, top_p=p.top_p,
                              top_k=p.top_k if p.top_k is not None else -1,
                              min_p=p.min_p if p.min_p is not None else 0.0,
                              repetition_penalty=p.repeat_penalty if p.repeat_penalty is not None else 1.0,
                              max_tokens=p.max_tokens, stop=list(p.stop) or None,
                              seed=sample_seed(request.key, sample), logprobs=0 if p.logprobs else None)

    def generate(self, requests: Sequence[Request]) -> list[Result]:
        self.load()
        started = time.perf_counter()
        prompts, params, owners = [], [], []
        for index, request in enumerate(requests):
            prompt = self._prompt(request)
            for sample in range(request.params.n):
                prompts.append(prompt)
                params.append(self._params(request, sample))
                owners.append(index)
        outputs = self._llm.generate(prompts, params, use_tqdm=False)
        per_request: list[list[Completion]] = [[] for _ in requests]
        for owner, output in zip(owners, outputs):
            per_request[owner].append(self._completion(output))
        seconds = (time.perf_counter() - started) / max(1, len(requests))
        return [Result(r.key, per_request[i], seconds=seconds) for i, r in enumerate(requests)]

    def _completion(self, output) -> Completion:
        choice = output.outputs[0]
        text = choice.text or ""
        completion = Completion(text=text, finish_reason=choice.finish_reason,
                                prompt_tokens=len(output.prompt_token_ids or []),
                                completion_tokens=len(choice.token_ids or []))
        if choice.logprobs:
            logprobs, offsets = [], []
            for k, (token, entry) in enumerate(zip(choice.token_ids, choice.logprobs)):
                start = len(self.tokenizer.decode(list(choice.token_ids[:k]), skip_special_tokens=True)) if k else 0
                if start >= len(text):
                    break
                chosen = entry.get(token) if isinstance(entry, dict) else None
                logprobs.append(float(chosen.logprob) if chosen is not None else float("nan"))
                offsets.append(start)
            completion.token_logprobs, completion.token_offsets = logprobs, offsets
        return completion

    def close(self) -> None:
        self._llm = None
