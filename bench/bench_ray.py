"""Benchmark: demo-scale generate and filter on ``--engine ray`` (a local 2-CPU cluster) against the
local engine, on the same work, in one run.

    .venv/bin/python bench/bench_ray.py [--limit 40] [--relations used_for_function,used_for_audience,xWant]
                                        [--rounds 2] [--max-tokens 48] [--workers 2] [--no-critic]

One process starts one Ray cluster (``ray.init(num_cpus=2)``; its time is the cluster start-up).
Each round runs, for each engine on fresh workspaces (nothing cached): generate + filter on the full
work (``--limit`` behaviours x relations, the demo's) and on a one-behaviour, one-relation work. The
small work's time is the engine's fixed cost (worker processes, model loads per actor, Ray Data
planning); the throughput ratio after start-up is

    ratio = (local full - local small) / (ray full - ray small)     per stage, > 1: Ray is faster

i.e. the local engine's time per extra unit of work over Ray's. Engines alternate order per round
(local first, then Ray first, ...) so that background load on the shared machine hits both alike;
medians and min-max over rounds are printed. The filter runs with the llama.cpp completeness
scorer, MiniLM embeddings and (unless ``--no-critic``) a critic trained once on the demo
annotations (1 epoch). The local engine runs llama.cpp with its default threads, Ray runs
``--workers`` actors of 1 CPU each. Goal: ratio >= 0.8.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path


def _critic(base: Path) -> Path:
    from intentkg.annotate.formats import import_file
    from intentkg.annotate.formats.records import load_titles
    from intentkg.annotate.store import Store
    from intentkg.critic.stage import CriticConfig, run_train_critic
    from intentkg.critic.train import TrainConfig
    from intentkg.demo_data import demo_path

    root = base / "critic-ws"
    import_file(Store.for_workspace(root), demo_path("annotated_candidates.jsonl"),
                titles=load_titles(demo_path("products.csv")))
    run_train_critic(root, CriticConfig(train=TrainConfig(epochs=1, max_length=32, batch_size=16)))
    return root / "critic"


def _one(root: Path, engine: dict, limit: int, relations: list[str], max_tokens: int, critic: Path | None) -> dict:
    from intentkg.filter import FilterConfig, run_filter
    from intentkg.generate import GenerateConfig, run_generate
    from intentkg.ingest import run_ingest
    from intentkg.ingest.demo import demo_config

    run_ingest(demo_config(), root)
    generate = GenerateConfig.model_validate({"selection": {"limit": limit}, "relations": relations,
                                              "sampling": {"max_tokens": max_tokens}, "engine": engine})
    started = time.perf_counter()
    manifest = run_generate(generate, root)
    generate_s = time.perf_counter() - started
    settings: dict = {"completeness": {"scorer": "llama"}, "engine": engine}
    if critic is not None:
        settings["critic"] = {"path": str(critic)}
    started = time.perf_counter()
    run_filter(root, FilterConfig.model_validate(settings), quiet=True)
    filter_s = time.perf_counter() - started
    return {"generate": generate_s, "filter": filter_s, "calls": manifest.counts["backend_calls"],
            "candidates": manifest.counts["candidates"]}


def _stats(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--relations", default="used_for_function,used_for_audience,xWant")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-critic", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local cluster on 127.0.0.1
    os.environ.setdefault("INTENTKG_NO_PROGRESS", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import ray

    relations = [r.strip() for r in args.relations.split(",") if r.strip()]
    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    cluster_s = time.perf_counter() - started
    ray_engine = {"name": "ray", "workers": args.workers}
    results: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        base = Path(tmp)
        critic = None if args.no_critic else _critic(base)
        for r in range(args.rounds):
            order = [("local", "local"), ("ray", ray_engine)]
            for name, engine in (order if r % 2 == 0 else order[::-1]):
                for size, limit, rels in (("small", 1, relations[:1]), ("full", args.limit, relations)):
                    out = _one(base / f"r{r}-{name}-{size}", engine, limit, rels, args.max_tokens, critic)
                    results.setdefault(f"{name}-{size}", []).append(out)
                    print(f"round {r} {name:5s} {size:5s}: generate {out['generate']:7.1f} s ({out['calls']} calls), "
                          f"filter {out['filter']:6.1f} s ({out['candidates']} candidates)", flush=True)
    ray.shutdown()
    print(f"\ncluster start-up (ray.init, 2 CPUs): {cluster_s:.1f} s")
    for stage in ("generate", "filter"):
        fixed = [rs[stage] - ls[stage] for rs, ls in zip(results["ray-small"], results["local-small"])]
        ratios = [(lf[stage] - ls[stage]) / max(1e-9, rf[stage] - rs[stage]) for lf, ls, rf, rs in
                  zip(results["local-full"], results["local-small"], results["ray-full"], results["ray-small"])]
        print(f"{stage}: Ray's fixed cost over local (small work) {_stats(fixed)} s; "
              f"throughput ratio local/ray after start-up {_stats(ratios)} (goal >= 0.8)")


if __name__ == "__main__":
    main()
