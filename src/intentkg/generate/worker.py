"""One LLM per worker process: the worker that answers a block of requests on a cluster (``--engine ray``).

Any backend of the registry works (llama.cpp on CPU-only clusters, an OpenAI-compatible server
called from each worker; vLLM replicas go through :mod:`intentkg.engine.vllm_data`). Each worker
process writes its answers to its own request-cache shard, committed every ``commit_every`` calls,
and skips every key already answered in the main cache or in any shard: a block that Ray retries
after its worker process died repeats no call that had finished.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from typing import Any

import pyarrow as pa

from intentkg.errors import ConfigError, IntentkgError
from intentkg.llm.protocol import Request, SamplingParams

OUTPUT = pa.schema([("idx", pa.int64()), ("key", pa.string()), ("status", pa.string()), ("error", pa.string()),
                    ("completions", pa.int64()), ("tokens_in", pa.int64()), ("tokens_out", pa.int64()),
                    ("cpu_seconds", pa.float64())])


def request_to_json(request: Request) -> str:
    return json.dumps({"key": request.key, "params": request.params.as_dict(), "prompt": request.prompt,
                       "messages": list(request.messages) if request.messages is not None else None,
                       "prefix_splits": list(request.prefix_splits)}, ensure_ascii=False)


def request_from_json(text: str) -> Request:
    data = json.loads(text)
    params = dict(data["params"])
    params["stop"] = tuple(params.get("stop") or ())
    messages = data.get("messages")
    return Request(key=data["key"], params=SamplingParams(**params), prompt=data.get("prompt"),
                   messages=tuple(dict(m) for m in messages) if messages is not None else None,
                   prefix_splits=tuple(data.get("prefix_splits") or ()))


def requests_table(requests: list[Request]) -> pa.Table:
    return pa.table({"idx": pa.array(range(len(requests)), pa.int64()),
                     "request": [request_to_json(r) for r in requests]})


def _loaded(backend: str, model: str, options: dict[str, Any]):
    from intentkg.llm import registry

    created = registry.create(backend, model=model, **options)
    if hasattr(created, "load"):
        created.load()
    return created


class GenerateWorker:
    def __init__(self, backend: str, model: str, options: dict[str, Any], model_hash: str, cache_folder: str,
                 run_id: str, commit_every: int | None):
        from intentkg.engine.hosted import kept

        self.backend = kept(("generator", backend, model, options, model_hash),
                            lambda: _loaded(backend, model, options))  # the next run's worker finds it loaded
        self.model = self.backend.info()
        if self.model.model_hash != model_hash:
            raise ConfigError(f"worker on {socket.gethostname()}: model {model!r} has hash {self.model.model_hash[:12]}"
                              f", the driver's has {model_hash[:12]}: give every node the same model file")
        self.cache_folder, self.run_id = cache_folder, run_id
        self.commit_every = commit_every or getattr(self.backend, "preferred_batch_size", 1) or 1
        self.cache: RequestCache | None = None

    def _store(self, requests: list[Request], results: list) -> None:
        """Commit one batch to this worker's shard, under the shard's lock. The driver may have folded
        the shard into the main file (and deleted it) since the last commit: then a new one is opened."""
        from intentkg.generate.request_cache import RequestCache, shard_lock

        while True:
            if self.cache is None or not self.cache.path.exists():
                if self.cache is not None:
                    self.cache.close()
                name = f"{self.run_id}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
                self.cache = RequestCache(self.cache_folder, shard=name)
            with shard_lock(self.cache.path):
                if self.cache.path.exists():
                    self.cache.put_many(self.model, requests, results, run_id=self.run_id)
                    return

    def __call__(self, block: pa.Table) -> pa.Table:
        from intentkg.generate.request_cache import known_anywhere

        requests = [request_from_json(text) for text in block.column("request").to_pylist()]
        indexes = block.column("idx").to_pylist()
        known = known_anywhere(self.cache_folder, [r.key for r in requests])
        rows = {i: (i, r.key, "cached", None, 0, 0, 0, 0.0) for i, r in zip(indexes, requests) if r.key in known}
        todo = [(i, r) for i, r in zip(indexes, requests) if r.key not in known]
        for start in range(0, len(todo), self.commit_every):
            chunk = todo[start:start + self.commit_every]
            began = time.process_time()
            results = self.backend.generate([r for _, r in chunk])
            cpu = (time.process_time() - began) / max(1, len(chunk))
            if len(results) != len(chunk) or any(res.key != r.key for res, (_, r) in zip(results, chunk)):
                raise IntentkgError(f"backend {self.model.backend} returned {len(results)} results for {len(chunk)} "
                                    f"requests, or in another order; nothing from this batch was kept")
            self._store([r for _, r in chunk], results)
            for (i, request), result in zip(chunk, results):
                tokens_in = sum(c.prompt_tokens or 0 for c in result.completions)
                tokens_out = sum(c.completion_tokens or 0 for c in result.completions)
                status = "failed" if result.error is not None else "called"
                rows[i] = (i, request.key, status, result.error, len(result.completions), tokens_in, tokens_out, cpu)
        columns = list(zip(*(rows[i] for i in indexes))) if indexes else [[] for _ in OUTPUT.names]
        return pa.table({name: list(values) for name, values in zip(OUTPUT.names, columns)}, schema=OUTPUT)
