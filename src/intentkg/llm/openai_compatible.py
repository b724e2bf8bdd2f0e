"""Any OpenAI-compatible HTTP server: vLLM serve, llama.cpp server, Ollama, TGI, hosted APIs.

Chat requests go to ``/chat/completions``, plain prompts to ``/completions``. Calls run
concurrently (``concurrency`` at a time) with a per-call ``timeout``; timeouts, connection errors,
429 and 5xx answers are retried ``retries`` times with exponential backoff and jitter (honouring
``Retry-After``). Each of the ``n`` samples is its own call with its own seed, so samples are
reproducible on servers that honour ``seed`` and the same on every server, whether or not it
supports ``n``. The API key is read from the environment variable named by ``api_key_env`` and is
never stored.

``model_hash`` names the exact weights behind the server (e.g. the GGUF's sha256); it goes into
the request-cache key. Without it the key uses ``remote:<model>``, so a server that swaps weights
under the same name would be served stale cached answers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import random
import time
from typing import Any, Sequence

from intentkg.errors import ConfigError
from intentkg.llm.protocol import Completion, ModelInfo, Request, Result, offsets_from_pieces, sample_seed
from intentkg.llm.registry import register

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class _Permanent(Exception):
    """An answer that retrying will not fix (4xx other than rate limits, malformed JSON)."""


@register("openai")
class OpenAICompatibleBackend:
    name = "openai"

    def __init__(self, model: str, base_url: str = "http://127.0.0.1:8000/v1", api_key_env: str | None = None,
                 chat: bool = True, concurrency: int = 8, timeout: float = 120.0, retries: int = 4,
                 backoff: float = 0.5, max_backoff: float = 30.0, model_hash: str | None = None,
                 send_seed: bool = True, extra_body: dict[str, Any] | None = None):
        if concurrency < 1 or retries < 0 or timeout <= 0:
            raise ConfigError("openai backend: concurrency >= 1, retries >= 0 and timeout > 0 are required")
        self.model, self.base_url, self.chat = model, base_url.rstrip("/"), bool(chat)
        self.concurrency, self.timeout, self.retries = concurrency, timeout, retries
        self.backoff, self.max_backoff = backoff, max_backoff
        self.model_hash, self.send_seed, self.extra_body = model_hash, send_seed, dict(extra_body or {})
        self.api_key = None
        if api_key_env:
            self.api_key = os.environ.get(api_key_env)
            if not self.api_key:
                raise ConfigError(f"openai backend: environment variable {api_key_env} (api_key_env) is not set")
        self.preferred_batch_size = concurrency * 2
        self.transport = None  # tests may set an httpx transport

    def info(self) -> ModelInfo:
        return ModelInfo(backend=self.name, model_id=self.model, model_hash=self.model_hash or f"remote:{self.model}",
                         chat=self.chat, path=None)

    def generate(self, requests: Sequence[Request]) -> list[Result]:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self._generate(list(requests)))
        # called from inside an event loop (a notebook, an async app): run on a helper thread
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self._generate(list(requests))).result()

    def close(self) -> None:
        pass

    async def _generate(self, requests: list[Request]) -> list[Result]:
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        gate = asyncio.Semaphore(self.concurrency)
        async with httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=self.timeout,
                                     limits=limits, transport=self.transport) as client:
            return await asyncio.gather(*(self._request(client, gate, r) for r in requests))

    async def _request(self, client, gate: asyncio.Semaphore, request: Request) -> Result:
        started = time.perf_counter()
        jobs = [self._sample(client, gate, request, i) for i in range(request.params.n)]
        answers = await asyncio.gather(*jobs, return_exceptions=True)
        errors = [a for a in answers if isinstance(a, BaseException)]
        seconds = time.perf_counter() - started
        if errors:
            return Result(request.key, error=f"{type(errors[0]).__name__}: {errors[0]}", seconds=seconds)
        return Result(request.key, list(answers), seconds=seconds)  # type: ignore[arg-type]

    def _body(self, request: Request, sample: int) -> tuple[str, dict[str, Any]]:
        p = request.params
        body: dict[str, Any] = {"model": self.model, "max_tokens": p.max_tokens, "temperature": p.temperature,
                                "top_p": p.top_p, "n": 1}
        if p.stop:
            body["stop"] = list(p.stop)
        if self.send_seed:
            body["seed"] = sample_seed(request.key, sample)
        for name in ("top_k", "min_p"):
            if getattr(p, name) is not None:
                body[name] = getattr(p, name)
        if p.repeat_penalty is not None:
            body["repetition_penalty"] = p.repeat_penalty
        if request.messages is not None:
            body["messages"] = [dict(m) for m in request.messages]
            if p.logprobs:
                body["logprobs"] = True
            path = "/chat/completions"
        else:
            body["prompt"] = request.prompt
            if p.logprobs:
                body["logprobs"] = 1
            path = "/completions"
        body.update(self.extra_body)
        return path, body

    async def _sample(self, client, gate: asyncio.Semaphore, request: Request, sample: int) -> Completion:
        import httpx

        path, body = self._body(request, sample)
        for attempt in range(self.retries + 1):
            wait = None
            async with gate:
                try:
                    response = await client.post(path, json=body)
                except (httpx.TimeoutException, httpx.TransportError) as exc:
                    if attempt == self.retries:
                        raise
                    wait = self._delay(attempt, None)
                    error: Exception = exc
                else:
                    if response.status_code < 400:
                        return self._completion(response, request.messages is not None)
                    message = f"HTTP {response.status_code} from {self.base_url}{path}: {response.text[:300]}"
                    if response.status_code not in RETRY_STATUS or attempt == self.retries:
                        raise _Permanent(message)
                    wait = self._delay(attempt, response.headers.get("retry-after"))
                    error = _Permanent(message)
            await asyncio.sleep(wait)
        raise error  # pragma: no cover - the loop always returns or raises

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), self.max_backoff)
            except ValueError:
                pass
        return min(self.backoff * 2 ** attempt, self.max_backoff) * (0.5 + random.random())

    @staticmethod
    def _completion(response, chat: bool) -> Completion:
        try:
            data = response.json()
            choice = data["choices"][0]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise _Permanent(f"unexpected answer from the server: {response.text[:300]}") from exc
        usage = data.get("usage") or {}
        text = (choice.get("message") or {}).get("content") if chat else choice.get("text")
        text = text if isinstance(text, str) else ""
        completion = Completion(text=text, finish_reason=choice.get("finish_reason"),
                                prompt_tokens=usage.get("prompt_tokens"),
                                completion_tokens=usage.get("completion_tokens"))
        logprobs = choice.get("logprobs") or {}
        if chat and isinstance(logprobs.get("content"), list):
            entries = [e for e in logprobs["content"] if isinstance(e, dict)]
            pieces = [str(e.get("token", "")) for e in entries]
            values = [e.get("logprob") for e in entries]
        elif not chat and isinstance(logprobs.get("token_logprobs"), list):
            pieces = [str(t) for t in logprobs.get("tokens") or []]
            values = logprobs["token_logprobs"]
        else:
            return completion
        if pieces and len(pieces) == len(values):
            offsets = offsets_from_pieces(pieces, len(text))
            keep = [i for i, off in enumerate(offsets) if off < len(text)]
            completion.token_logprobs = [float(values[i]) if values[i] is not None else float("nan") for i in keep]
            completion.token_offsets = [offsets[i] for i in keep]
        return completion
