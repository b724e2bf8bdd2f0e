"""Hugging Face transformers: any local causal LM (a Hub name or a folder with safetensors weights).

The folder is found and opened by :mod:`intentkg.model_folder`: weights only from safetensors and
never with ``trust_remote_code``, so loading a model runs no code from the model's repository. A
model whose tokenizer has a chat template gets chat prompts (``chat=None`` detects it). Each sample is generated on its own with its own seed, so an
answer does not depend on which requests share a batch. Per-token log-probabilities come from the
raw logits (before temperature and top-k/p).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Sequence

from intentkg.llm.hf_folder import HFFolderModel
from intentkg.llm.protocol import Completion, ModelInfo, Request, Result, sample_seed
from intentkg.llm.registry import register
from intentkg.model_folder import resolve
from intentkg.threads import torch_threads


@register("transformers")
class TransformersBackend(HFFolderModel):
    name = "transformers"
    preferred_batch_size = 1

    def __init__(self, model: str, device: str = "cpu", dtype: str = "auto", chat: bool | None = None,
                 revision: str | None = None, threads: int | None = None):
        self.model, self.device, self.dtype, self.revision, self.threads = model, device, dtype, revision, threads
        self.folder = resolve(model, revision, what="model")
        self.path = self.folder.path
        self._chat = chat
        self._tokenizer = None
        self._model = None
        self._info: ModelInfo | None = None

    def load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import AutoModelForCausalLM

        dtype: Any = self.dtype if self.dtype == "auto" else getattr(torch, self.dtype)
        model = self.folder.load(AutoModelForCausalLM, dtype=dtype)
        device = ("cuda" if torch.cuda.is_available() else "cpu") if self.device == "auto" else self.device
        self._model = model.to(device).eval()

    def generate(self, requests: Sequence[Request]) -> list[Result]:
        self.load()
        # the thread count holds while this backend generates; the process's own comes back after
        with torch_threads(self.threads) if self.threads else contextlib.nullcontext():
            return self._generate(requests)

    def _generate(self, requests: Sequence[Request]) -> list[Result]:
        results = []
        for request in requests:
            started = time.perf_counter()
            try:
                completions = [self._sample(request, i) for i in range(request.params.n)]
            except (ValueError, RuntimeError) as exc:
                results.append(Result(request.key, error=f"{type(exc).__name__}: {exc}",
                                      seconds=time.perf_counter() - started))
                continue
            results.append(Result(request.key, completions, seconds=time.perf_counter() - started))
        return results

    def _prompt_ids(self, request: Request):
        tok = self.tokenizer
        if request.messages is not None:
            text = tok.apply_chat_template([dict(m) for m in request.messages], tokenize=False,
                                           add_generation_prompt=True)
            return tok(text, return_tensors="pt", add_special_tokens=False)
        return tok(request.prompt, return_tensors="pt")

    def _sample(self, request: Request, sample: int) -> Completion:
        import torch

        p, tok, model = request.params, self.tokenizer, self._model
        inputs = self._prompt_ids(request).to(model.device)
        prompt_len = inputs["input_ids"].shape[1]
        kwargs: dict[str, Any] = dict(max_new_tokens=p.max_tokens, do_sample=p.temperature > 0,
                                      return_dict_in_generate=True, output_logits=p.logprobs,
                                      pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id)
        if p.temperature > 0:
            kwargs.update(temperature=p.temperature, top_p=p.top_p, top_k=p.top_k if p.top_k is not None else 0)
            if p.min_p is not None:
                kwargs["min_p"] = p.min_p
        if p.repeat_penalty is not None:
            kwargs["repetition_penalty"] = p.repeat_penalty
        if p.stop:
            kwargs.update(stop_strings=list(p.stop), tokenizer=tok)
        torch.manual_seed(sample_seed(request.key, sample))
        with torch.inference_mode():
            out = model.generate(**inputs, **kwargs)
        new = out.sequences[0, prompt_len:].tolist()
        full = tok.decode(new, skip_special_tokens=True)
        text, stopped = full, False
        for stop in p.stop:
            at = text.find(stop)
            if at != -1:
                text, stopped = text[:at], True
        eos = tok.eos_token_id
        ended = bool(new) and eos is not None and new[-1] == eos
        finish = "stop" if stopped or ended or len(new) < p.max_tokens else "length"
        completion = Completion(text=text, finish_reason=finish, prompt_tokens=prompt_len, completion_tokens=len(new))
        if p.logprobs and out.logits:
            logprobs, offsets = [], []
            for k, (token, logits) in enumerate(zip(new, out.logits)):
                start = len(tok.decode(new[:k], skip_special_tokens=True)) if k else 0
                if start >= len(text):
                    break
                logprobs.append(float(torch.log_softmax(logits[0].float(), dim=-1)[token]))
                offsets.append(start)
            completion.token_logprobs, completion.token_offsets = logprobs, offsets
        return completion

    def close(self) -> None:
        self._model = None
