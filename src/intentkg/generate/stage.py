"""The generate stage: behaviours -> LLM answers (through the request cache) -> candidate rows.

Reads ``<workspace>/ingest/behaviors.parquet``, writes ``<workspace>/generate/candidates.parquet``
and ``manifest.json``. Calls go through ``<workspace>/.cache/llm/requests.sqlite``: answers already
there are reused, new ones are committed batch by batch, so a killed run resumes where it stopped.
The candidates are built from the cache in plan order at the end (:mod:`.write_candidates`), so a
resumed run writes the same table as an uninterrupted one; on ``engine: ray`` the workers write
them as a folder of parts, the same rows in the same order.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path


from intentkg.engine.settings import without_engine
from intentkg.errors import IntentkgError
from intentkg.generate.config import GenerateConfig
from intentkg.generate.plan import PlannedCall, execution_order, plan_calls
from intentkg.generate.prompts import Template, load_template
from intentkg.generate.relations import load_schema
from intentkg.generate.request_cache import RequestCache
from intentkg.generate.select import select_behaviors
from intentkg.generate.write_candidates import write_candidates
from intentkg.llm import registry
from intentkg.llm.protocol import Backend, ModelInfo
from intentkg.progress import bar, console
from intentkg.workspace import Manifest, Workspace
from intentkg.workspace.manifest import ModelRef

STAGE = "generate"


def cache_folder(workspace: Workspace) -> Path:
    return workspace.root / ".cache" / "llm"


def template_for(config: GenerateConfig, model: ModelInfo) -> Template:
    name = config.template
    if name == "auto":
        name = "qa_chat" if model.chat else "qa_fewshot"
    return load_template(name)


def run_generate(config: GenerateConfig, workspace: Workspace | str | Path, force: bool = False,
                 backend: Backend | None = None) -> Manifest:
    """Run the stage; pass ``backend`` to reuse a loaded model (it is then not closed here).

    With ``config.engine`` ray the calls run on a cluster's actors (:mod:`.engine_calls`); this
    process then loads no model, its backend only names the model and its hash."""
    workspace = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    behaviors = workspace.read("ingest", "behaviors")
    own_backend = backend is None
    if backend is None:
        backend = registry.create(config.backend.name, model=config.backend.model, **config.backend.options)
    try:
        model = backend.info()
        template = template_for(config, model)
        schema = load_schema(config.relations_file, config.extra_relations)
        relations = schema.select(config.relations)
        selected = select_behaviors(behaviors, config.selection)
        products = None
        if config.granularity == "product_type" and workspace.table_path("ingest", "products").exists():
            products = workspace.read("ingest", "products").select(["product_id", "product_type"])
        calls = plan_calls(selected, relations, template, model, config, products)
        resolved = without_engine(config.model_dump(mode="json"))  # the engine never changes answers
        resolved["resolved"] = {
            "backend": model.backend, "model_id": model.model_id, "model_hash": model.model_hash,
            "template": template.name, "template_version": template.version,
            "relations": [r.name for r in relations], "relation_schema": schema.fingerprint,
        }
        with workspace.run(STAGE, config=resolved, inputs=["ingest"], force=force) as run:
            if run.skipped:
                return run.previous  # type: ignore[return-value]
            run.models.append(ModelRef(role="generator", model_id=model.model_id, sha256=model.model_hash,
                                       file=workspace.stored(model.path) if model.path else None))
            from intentkg.engine import open_engine

            engine = open_engine(config.engine)
            with RequestCache(cache_folder(workspace)) as cache:
                cache.merge_shards()  # answers a killed cluster run left in its workers' shards
                if engine.name == "local":
                    stats = _call_backend(run, backend, model, calls, config, cache)
                else:
                    from intentkg.generate.engine_calls import call_on_engine

                    stats = call_on_engine(run, engine, model, calls, config, cache)
            stats.update(write_candidates(run, engine, calls, cache_folder(workspace), template.name,
                                          template.version, model, config.max_items))
            run.counts.update({"behaviors": selected.num_rows, "relations": len(relations),
                               "prompts_per_relation": len({c.request.key for c in calls}) // max(1, len(relations)),
                               **stats})
            failed, total = stats["failed_calls"], stats["requests"]
            if failed and failed > config.max_failed_fraction * total:
                raise IntentkgError(f"{failed} of {total} LLM calls failed (first error: {stats['first_error']}); "
                                    f"finished calls are cached: run `intentkg generate` again to retry the rest")
    finally:
        if own_backend:
            backend.close()
    return workspace.manifest(STAGE)  # type: ignore[return-value]


def _call_backend(run, backend: Backend, model: ModelInfo, calls: list[PlannedCall], config: GenerateConfig,
                  cache: RequestCache) -> dict:
    unique = list({c.request.key: c for c in reversed(calls)}.values())  # first call of each key wins
    known = cache.known(c.request.key for c in unique)
    todo = [c for c in execution_order(unique) if c.request.key not in known]
    batch_size = config.batch_size or getattr(backend, "preferred_batch_size", 1) or 1
    run_id = uuid.uuid4().hex[:12]
    stats = {"requests": len(unique), "cache_hits": len(known), "backend_calls": 0, "failed_calls": 0,
             "tokens_in": 0, "tokens_out": 0, "completions": 0, "first_error": None, "run_id": run_id}
    seconds = cpu_seconds = 0.0
    if todo:
        from intentkg.generate.budget import expected_time

        workers = getattr(backend, "workers", 1)  # llama.cpp: decoders of one core each
        console.print(f"generate: {len(known)} of {len(unique)} answers cached; "
                      f"{expected_time(len(todo), config.backend.name, config.backend.model, workers)}",
                      highlight=False)
    if todo and hasattr(backend, "load"):
        with run.time("load_model"):
            backend.load()
    with run.time("generate"), bar(f"generate ({model.model_id})", len(unique), unit="calls") as progress:
        progress.advance(len(known))
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            requests = [c.request for c in batch]
            began, began_cpu = time.perf_counter(), time.process_time()
            results = backend.generate(requests)
            seconds += time.perf_counter() - began
            cpu_seconds += time.process_time() - began_cpu
            if len(results) != len(requests) or any(r.key != q.key for r, q in zip(results, requests)):
                raise IntentkgError(f"backend {model.backend} returned {len(results)} results for {len(requests)} "
                                    f"requests, or in another order; nothing from this batch was kept")
            cache.put_many(model, requests, results, run_id=run_id)
            for result in results:
                if result.error is not None:
                    stats["failed_calls"] += 1
                    stats["first_error"] = stats["first_error"] or result.error
                    continue
                stats["backend_calls"] += 1
                for completion in result.completions:
                    stats["completions"] += 1
                    stats["tokens_in"] += completion.prompt_tokens or 0
                    stats["tokens_out"] += completion.completion_tokens or 0
            progress.advance(len(batch))
    slots = getattr(backend, "decode_slots", None)
    if slots is not None:  # llama_cpp batched decoding: how many sequences a step really held
        stats["decode_slots"], stats["decode_min_rows"] = slots[0], slots[2]
        if slots[0] < slots[1]:
            console.print(f"llama_cpp: {slots[0]} sequences a decode step, not parallel={slots[1]}: on this "
                          f"machine a step of {slots[0] + 1} computes each sequence otherwise than alone, so "
                          f"answers would depend on their batch-mates (docs/generate.md)", highlight=False)
    if stats["first_error"]:
        console.print(f"[yellow]warning:[/] {stats['failed_calls']} calls failed, e.g. {stats['first_error']}",
                      highlight=False)
    stats["generation_seconds"] = round(seconds, 3)
    stats["generation_cpu_seconds"] = round(cpu_seconds, 3)  # this process only: 0-ish for remote servers
    stats["tokens_per_second"] = round(stats["tokens_out"] / seconds, 2) if seconds > 0 else None
    stats["calls_per_second"] = round(stats["backend_calls"] / seconds, 3) if seconds > 0 else None
    return stats
