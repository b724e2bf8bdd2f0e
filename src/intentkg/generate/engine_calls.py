"""The generate stage's LLM calls on a cluster (``engine: ray``): blocks of requests as Ray tasks.

The driver plans every call and checks the request cache as on one machine; only the calls not
answered yet go to the workers (:class:`intentkg.generate.worker.GenerateWorker`, one model
per actor), in the same prefix-sharing order, in blocks of about a quarter of each worker's share.
Workers write answers to their own cache shards; the driver folds them into the main cache at the
end (and a later run folds in what a killed run left), then builds the candidates from the cache
exactly as the local engine does, so both write the same table.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import Counter

import pyarrow as pa

from intentkg.engine import Engine
from intentkg.engine.source import Source
from intentkg.generate.worker import GenerateWorker, requests_table
from intentkg.generate.config import GenerateConfig
from intentkg.generate.plan import PlannedCall, execution_order
from intentkg.generate.request_cache import RequestCache
from intentkg.llm.protocol import ModelInfo
from intentkg.progress import console


def call_on_engine(run, engine: Engine, model: ModelInfo, calls: list[PlannedCall], config: GenerateConfig,
                   cache: RequestCache) -> dict:
    unique = list({c.request.key: c for c in reversed(calls)}.values())
    known = cache.known(c.request.key for c in unique)
    todo = [c for c in execution_order(unique) if c.request.key not in known]
    run_id = uuid.uuid4().hex[:12]
    stats = {"requests": len(unique), "cache_hits": len(known), "backend_calls": 0, "failed_calls": 0,
             "tokens_in": 0, "tokens_out": 0, "completions": 0, "first_error": None, "run_id": run_id,
             "engine": engine.name, "engine_startup_seconds": round(engine.startup_seconds, 3)}
    seconds = cpu_seconds = 0.0
    if todo:
        console.print(f"generate: {len(known)} of {len(unique)} answers cached; {len(todo)} calls on "
                      f"{engine.settings.workers} {config.backend.name} workers ({engine.name})", highlight=False)
        b = config.backend
        args = (b.name, b.model, dict(b.options), model.model_hash, str(cache.folder), run_id, config.batch_size)
        rows = max(1, math.ceil(len(todo) / (4 * engine.settings.workers)))
        began = time.perf_counter()
        with run.time("generate"):
            if b.name == "vllm":  # GPU replicas through Ray Data LLM
                parts = [_on_vllm(engine, model, [c.request for c in todo], cache, run_id)]
            else:
                parts = list(engine.map_batches(Source(table=requests_table([c.request for c in todo])),
                                                GenerateWorker, args, key="idx", rows=rows,
                                                scratch=run.tmp / "engine", name="generate", model_step=True))
            cache.merge_shards()
        seconds = time.perf_counter() - began
        out = pa.concat_tables(parts).to_pydict() if parts else {}
        status = Counter(out.get("status", []))
        stats["backend_calls"] = status.get("called", 0)
        stats["failed_calls"] = status.get("failed", 0)
        stats["cache_hits"] += status.get("cached", 0)  # answered by a shard a killed run left behind
        errors = [e for e, s in zip(out.get("error", []), out.get("status", [])) if s == "failed" and e]
        stats["first_error"] = errors[0] if errors else None
        for name in ("completions", "tokens_in", "tokens_out"):
            stats[name] = int(sum(out.get(name, [])))
        cpu_seconds = float(sum(out.get("cpu_seconds", [])))
    if stats["first_error"]:
        console.print(f"[yellow]warning:[/] {stats['failed_calls']} calls failed, e.g. {stats['first_error']}",
                      highlight=False)
    stats["generation_seconds"] = round(seconds, 3)
    stats["generation_cpu_seconds"] = round(cpu_seconds, 3)  # the workers' CPU time
    stats["tokens_per_second"] = round(stats["tokens_out"] / seconds, 2) if seconds > 0 else None
    stats["calls_per_second"] = round(stats["backend_calls"] / seconds, 3) if seconds > 0 else None
    return stats


def _on_vllm(engine: Engine, model: ModelInfo, requests: list, cache: RequestCache, run_id: str) -> pa.Table:
    """The calls on vLLM replicas (:mod:`intentkg.engine.vllm_data`), committed to the main cache by the
    driver as they stream back; the same per-request summary the workers return."""
    from intentkg.engine import vllm_data

    rows: list[dict] = []

    def store(done, results) -> None:
        cache.put_many(model, done, results, run_id=run_id)
        rows.extend({"idx": 0, "key": r.key, "status": "called", "error": None, "completions": len(r.completions),
                     "tokens_in": sum(c.prompt_tokens or 0 for c in r.completions),
                     "tokens_out": sum(c.completion_tokens or 0 for c in r.completions), "cpu_seconds": 0.0}
                    for r in results)

    vllm_data.generate(engine, model.path or model.model_id, requests, store)
    from intentkg.generate.worker import OUTPUT

    return pa.Table.from_pylist(rows, schema=OUTPUT)
