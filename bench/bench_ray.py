"""Benchmark: demo-scale generate and filter on ``--engine ray`` (a local 2-CPU cluster) against the
local engine, on the same work, in one run: fixed start-up cost and throughput, separated.

    .venv/bin/python bench/bench_ray.py [--sizes 8,40] [--relations used_for_function,used_for_audience,xWant]
                                        [--rounds 2] [--max-tokens 48] [--workers 2] [--no-critic] [--filter-only]

One process starts one Ray cluster (``ray.init(num_cpus=2)``; its time is printed as the cluster
start-up). Each round runs, for each engine on fresh workspaces (nothing cached), generate + filter
at two workload sizes (``--sizes``: behaviours, times the relations). Per engine and stage, the
line through the two points separates the two costs:

    throughput = (n_large - n_small) / (t_large - t_small)    calls/s (generate), candidates/s (filter)
    fixed      = t_small - n_small / throughput                seconds the work itself does not explain

and ``ratio = ray throughput / local throughput`` is the throughput ratio after start-up (goal >= 0.8).
Engines alternate ABBA (round 0: local, Ray; round 1: Ray, local; ...) so that background load on a
shared machine hits both alike; medians and min-max over rounds are printed, with the load average.
The filter runs with the llama.cpp completeness scorer, MiniLM embeddings and (unless
``--no-critic``) a critic trained once on the demo annotations (1 epoch). The local engine runs
llama.cpp with its default threads, Ray ``--workers`` worker processes of 1 CPU each.
"""

from __future__ import annotations

import argparse
import os
import shutil
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


def _one(root: Path, engine: dict, limit: int, relations: list[str], max_tokens: int, critic: Path | None,
         generated: Path | None = None) -> dict:
    """generate + filter on a fresh workspace; with ``generated`` (a workspace that ran generate
    locally) only the filter, on a copy of it: the same candidates for both engines."""
    from intentkg.filter import FilterConfig, run_filter
    from intentkg.generate import GenerateConfig, run_generate
    from intentkg.ingest import run_ingest
    from intentkg.ingest.demo import demo_config
    from intentkg.workspace import Workspace

    if generated is not None:
        shutil.copytree(generated, root)
        manifest, generate_s = Workspace(root).committed("generate"), float("nan")
    else:
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


def _generated(root: Path, limit: int, relations: list[str], max_tokens: int) -> Path:
    from intentkg.generate import GenerateConfig, run_generate
    from intentkg.ingest import run_ingest
    from intentkg.ingest.demo import demo_config

    run_ingest(demo_config(), root)
    run_generate(GenerateConfig.model_validate({"selection": {"limit": limit}, "relations": relations,
                                                "sampling": {"max_tokens": max_tokens}}), root)
    return root


def _stats(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f})"


def _line(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(throughput, fixed seconds) of the line through (work, seconds) at two sizes."""
    (n1, t1), (n2, t2) = points
    throughput = (n2 - n1) / (t2 - t1) if t2 > t1 else float("inf")
    return throughput, t1 - n1 / throughput


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="8,40", help="two workload sizes, in behaviours")
    parser.add_argument("--relations", default="used_for_function,used_for_audience,xWant")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-critic", action="store_true")
    parser.add_argument("--filter-only", action="store_true",
                        help="generate each size once locally (untimed), then time only the filter on copies")
    parser.add_argument("--warm-up", action="store_true",
                        help="with --filter-only: one filter run per engine at the small size first, timed apart "
                             "(the Ray workers load their models then: start-up, not throughput)")
    args = parser.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local cluster on 127.0.0.1
    os.environ.setdefault("INTENTKG_NO_PROGRESS", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import ray

    relations = [r.strip() for r in args.relations.split(",") if r.strip()]
    sizes = [int(x) for x in args.sizes.split(",")]
    assert len(sizes) == 2 and sizes[0] < sizes[1], "--sizes: two sizes, small first"
    print(f"load average at start: {os.getloadavg()}", flush=True)
    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    cluster_s = time.perf_counter() - started
    engines = {"local": "local", "ray": {"name": "ray", "workers": args.workers}}
    results: dict[tuple[str, int], list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        base = Path(tmp)
        critic = None if args.no_critic else _critic(base)
        generated = {size: _generated(base / f"generated-{size}", size, relations, args.max_tokens)
                     for size in sizes} if args.filter_only else {}
        if args.warm_up and args.filter_only:
            for name in engines:
                out = _one(base / f"warm-{name}", engines[name], sizes[0], relations, args.max_tokens, critic,
                           generated[sizes[0]])
                print(f"warm-up {name:5s} {sizes[0]:3d} behaviours: filter {out['filter']:6.1f} s (start-up, "
                      f"not in the lines below)  load {os.getloadavg()[0]:.1f}", flush=True)
        for r in range(args.rounds):
            order = ["local", "ray"] if r % 2 == 0 else ["ray", "local"]
            for name in order:
                for size in sizes:
                    out = _one(base / f"r{r}-{name}-{size}", engines[name], size, relations, args.max_tokens, critic,
                               generated.get(size))
                    results.setdefault((name, size), []).append(out)
                    print(f"round {r} {name:5s} {size:3d} behaviours: generate {out['generate']:7.1f} s "
                          f"({out['calls']} calls), filter {out['filter']:6.1f} s ({out['candidates']} candidates)  "
                          f"load {os.getloadavg()[0]:.1f}", flush=True)
    ray.shutdown()
    print(f"\ncluster start-up (ray.init, 2 CPUs): {cluster_s:.1f} s; load average at end: {os.getloadavg()}")
    stages = [("generate", "calls"), ("filter", "candidates")][1 if args.filter_only else 0:]
    for stage, unit in stages:
        per: dict[str, list[tuple[float, float]]] = {}
        for name in engines:
            for r in range(args.rounds):
                per.setdefault(name, []).append(_line(
                    [(results[(name, size)][r][unit], results[(name, size)][r][stage]) for size in sizes]))
        for name in engines:
            print(f"{stage} {name:5s}: throughput {_stats([t for t, _ in per[name]])} {unit}/s, "
                  f"fixed {_stats([f for _, f in per[name]])} s")
        ratios = [rt / lt for (rt, _), (lt, _) in zip(per["ray"], per["local"])]
        print(f"{stage}: throughput ratio ray/local after start-up {_stats(ratios)} (goal >= 0.8)")


if __name__ == "__main__":
    main()
