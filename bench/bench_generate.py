"""Benchmark: `intentkg generate`, batched and single-stream, against raw llama-cpp-python.

    .venv/bin/python bench/bench_generate.py [--limit 16] [--rounds 3] [--max-tokens 48] [--threads N]
                                             [--parallel 8] [--workers W] [--stops none|template] [--no-logprobs]
                                             [--no-raw] [--no-single-all]

All sides run the bundled Gemma 3 270M (Q4_K_M) on the same machine in one process tree, in
rounds (the sides take turns going first) so that background load hits them alike:

- raw: one ``Llama`` and a plain loop of ``create_completion(prompt, ...)`` over the prompts intentkg
  renders, in intentkg's execution order, with the same seeds (llama-cpp-python's own KV prefix
  reuse applies). Tokens/s = completion tokens / loop time (model load excluded).
- single: the real CLI, ``intentkg generate --option parallel=1`` (the single-stream backend, as it
  was before batched decoding) in a subprocess on a fresh workspace. Tokens/s is the manifest's
  ``tokens_per_second`` (completion tokens / time in the generate loop, which includes the request
  cache, log-prob capture and progress; model load excluded, like raw). The CLI's wall time
  (process start, imports, model load, parse, Parquet) is reported too.
- batched: the same CLI with the default batched decoder (``parallel`` sequences decoded together on
  each of ``workers`` decoders, by default as many one-thread decoders as the machine has CPUs).
  Goal: batched / single >= 3 (issue 17.6), both at their defaults, medians and min-max over rounds.
- single_all: the single stream with as many threads as the batched side uses in all (every usable
  CPU), so batched / single_all compares the two at the same thread count.

By default no stop sequences are used (``--stops none``), so every call generates ``--max-tokens``
tokens on both sides and tokens/s compares equal work: with stops, sampled answers (and so the
number of tokens each call yields for its prompt evaluation) can differ between the two sides, since
intentkg evaluates prompts in fixed parts for reproducibility. ``--stops template`` measures the
realistic setting.

Then a fully cached re-run (``intentkg generate --force``: every call a cache hit, no model load) is timed.
The goals: single / raw >= 0.95 (no overhead of our own) and batched / single >= 3. Not a test: wall-clock timings on a shared machine are noisy, so every round
is printed, with tokens per CPU-second too (llama.cpp runs one compute thread by default here, so CPU
time measures the work itself and moves much less with other load).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RELATIONS = "used_for_function,xWant"


def cli(ws: Path, args: list[str]) -> float:
    env = dict(os.environ, INTENTKG_NO_PROGRESS="1")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "intentkg.cli.main", "generate", "-w", str(ws), *args],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"intentkg generate failed:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=16, help="behaviours (x 2 relations = calls per round)")
    parser.add_argument("--parallel", type=int, default=None, help="batched side: sequences decoded together "
                                                                   "(default: the backend's)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads of the single side and of "
                                                                  "each batched worker (default: intentkg's)")
    parser.add_argument("--workers", type=int, default=None, help="batched side: decoders (default: the backend's, "
                                                                  "as many as fill the CPUs)")
    parser.add_argument("--no-single-all", action="store_true", help="skip the single stream at all CPUs' threads")
    parser.add_argument("--no-logprobs", action="store_true", help="intentkg without per-token log-probs")
    parser.add_argument("--no-raw", action="store_true", help="skip the raw llama-cpp-python side (faster)")
    parser.add_argument("--stops", choices=["none", "template"], default="none",
                        help="none (default): no stop sequences, so both sides generate max-tokens tokens per call "
                             "and tokens/s compares equal work; template: the template's stops (realistic, but "
                             "answer lengths then differ between the two sides and move tokens/s)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    opts = parser.parse_args()

    from llama_cpp import Llama

    from intentkg.generate import GenerateConfig
    from intentkg.generate.plan import execution_order, plan_calls
    from intentkg.generate.relations import load_schema
    from intentkg.generate.select import select_behaviors
    from intentkg.generate.stage import template_for
    from intentkg.ingest import run_ingest
    from intentkg.ingest.demo import demo_config
    from intentkg.llm.llama_cpp import LlamaCppBackend, default_threads, default_workers, usable_cpus
    from intentkg.llm.llama_cpp_compat import extra_buffers_ok, model_params_patch
    from intentkg.llm.protocol import sample_seed
    from intentkg.workspace import Workspace

    threads = opts.threads or default_threads()
    root = Path(tempfile.mkdtemp(prefix="bench-generate-"))
    base = root / "base"
    run_ingest(demo_config(), base)
    args = ["--limit", str(opts.limit), "--relations", RELATIONS, "--max-tokens", str(opts.max_tokens),
            "--seed", "0", "--temperature", "0.8", "--top-p", "0.95", "--option", f"n_threads={threads}"]
    sampling = {"max_tokens": opts.max_tokens, "seed": 0, "temperature": 0.8, "top_p": 0.95,
                "logprobs": not opts.no_logprobs}
    if opts.stops == "none":
        sampling["stop"] = []
    config = GenerateConfig.model_validate({"relations": RELATIONS.split(","), "selection": {"limit": opts.limit},
                                            "sampling": sampling, "backend": {"options": {"n_threads": threads}}})
    (root / "bench.yaml").write_text(json.dumps({"sampling": sampling}))  # JSON is YAML
    args += ["--config", str(root / "bench.yaml")]

    backend = LlamaCppBackend(n_threads=threads, parallel=1)  # the prompts and seeds of the single-stream side
    model = backend.info()
    behaviors = select_behaviors(Workspace(base).read("ingest", "behaviors"), config.selection)
    relations = load_schema().select(config.relations)
    calls = execution_order(plan_calls(behaviors, relations, template_for(config, model), model, config))

    raw_llm = None
    if not opts.no_raw:
        with model_params_patch(extra_buffers_ok(backend.path)):
            raw_llm = Llama(model_path=str(backend.path), n_ctx=2048, n_threads=threads, n_threads_batch=threads,
                            n_batch=512, verbose=False)

    def raw_round() -> tuple[float, float, int]:
        raw_llm.reset()
        tokens = 0
        started, started_cpu = time.perf_counter(), time.process_time()
        for call in calls:
            p = call.request.params
            out = raw_llm.create_completion(call.request.prompt, max_tokens=p.max_tokens, temperature=p.temperature,
                                            top_p=p.top_p, seed=sample_seed(call.request.key, 0), stop=list(p.stop))
            tokens += out["usage"]["completion_tokens"]
        return tokens / (time.perf_counter() - started), tokens / (time.process_time() - started_cpu), tokens

    def cli_round(ws: Path, extra: list[str]) -> tuple[float, float, int, float]:
        shutil.copytree(base, ws)
        wall = cli(ws, args + extra)
        counts = Workspace(ws).manifest("generate").counts
        return (counts["tokens_per_second"], counts["tokens_out"] / counts["generation_cpu_seconds"],
                counts["tokens_out"], wall)

    batched_opts = ["--option", f"parallel={opts.parallel}"] if opts.parallel else []
    if opts.workers:
        batched_opts += ["--option", f"workers={opts.workers}"]
    all_threads = usable_cpus()
    print(f"single: 1 stream, {threads} thread(s); batched: {opts.workers or default_workers(threads)} worker(s) of "
          f"{threads} thread(s) (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})", flush=True)
    sides = ["single", "batched"] + ([] if opts.no_single_all or all_threads == threads else ["single_all"])
    rounds = []
    for r in range(opts.rounds):
        raw_tps, raw_cpu_tps, raw_tokens = raw_round() if raw_llm is not None else (None, None, None)
        setups = {"single": (root / f"round{r}", ["--option", "parallel=1"]),
                  "batched": (root / f"batched{r}", batched_opts),
                  "single_all": (root / f"all{r}", ["--option", "parallel=1", "--option", f"n_threads={all_threads}"])}
        order = sides[r % len(sides):] + sides[:r % len(sides)]  # the sides take turns going first
        measured = {name: cli_round(*setups[name]) for name in order}
        tps, cpu_tps, tokens, wall = measured["single"]
        b_tps, b_cpu_tps, b_tokens, b_wall = measured["batched"]
        row = {"raw_tokens_per_s": raw_tps and round(raw_tps, 2),
               "raw_tokens_per_cpu_s": raw_cpu_tps and round(raw_cpu_tps, 2),
               "raw_tokens": raw_tokens, "intentkg_tokens_per_s": tps,
               "intentkg_tokens_per_cpu_s": round(cpu_tps, 2), "intentkg_tokens": tokens,
               "batched_tokens_per_s": b_tps, "batched_tokens_per_cpu_s": round(b_cpu_tps, 2),
               "batched_tokens": b_tokens,
               "ratio": raw_tps and round(tps / raw_tps, 3), "cpu_ratio": raw_tps and round(cpu_tps / raw_cpu_tps, 3),
               "batched_ratio": round(b_tps / tps, 3), "batched_cpu_ratio": round(b_cpu_tps / cpu_tps, 3),
               "intentkg_cli_wall_s": round(wall, 2), "batched_cli_wall_s": round(b_wall, 2),
               "loadavg": os.getloadavg()[0]}
        all_text = ""
        if "single_all" in measured:
            a_tps, a_cpu_tps, a_tokens, a_wall = measured["single_all"]
            row.update({"single_all_tokens_per_s": a_tps, "single_all_tokens_per_cpu_s": round(a_cpu_tps, 2),
                        "batched_over_single_all": round(b_tps / a_tps, 3)})
            all_text = (f" | single at {all_threads} threads {a_tps:.1f} tok/s ({a_cpu_tps:.1f}/cpu-s), "
                        f"batched/that {row['batched_over_single_all']:.2f}")
        rounds.append(row)
        raw_text = (f"raw {raw_tps:.1f} tok/s ({raw_cpu_tps:.1f}/cpu-s, {raw_tokens} tokens) | "
                    f"single/raw {rounds[-1]['ratio']:.3f} (cpu {rounds[-1]['cpu_ratio']:.3f}) | ") if raw_tps else ""
        print(f"round {r + 1} (load {row['loadavg']:.1f}): {raw_text}single {tps:.1f} tok/s ({cpu_tps:.1f}/cpu-s, "
              f"{tokens} tokens), CLI wall {wall:.1f} s | batched {b_tps:.1f} tok/s ({b_cpu_tps:.1f}/cpu-s, "
              f"{b_tokens} tokens), CLI wall {b_wall:.1f} s | batched/single {rounds[-1]['batched_ratio']:.2f} "
              f"(cpu {rounds[-1]['batched_cpu_ratio']:.2f}, goal >= 3){all_text}", flush=True)
    if raw_llm is not None:
        raw_llm.close()

    def spread(name: str) -> dict:
        values = [r[name] for r in rounds]
        return {"median": round(statistics.median(values), 3), "min": min(values), "max": max(values)}

    last = root / f"round{opts.rounds - 1}"
    cached_walls = [cli(last, args + ["--option", "parallel=1", "--force"]) for _ in range(2)]
    counts = Workspace(last).manifest("generate").counts
    assert counts["backend_calls"] == 0 and counts["cache_hits"] == len(calls), counts
    result = {
        "model": "gemma3-270m (Q4_K_M GGUF)", "threads": threads, "calls_per_round": len(calls),
        "max_tokens": opts.max_tokens, "logprobs": not opts.no_logprobs, "stops": opts.stops, "rounds": rounds,
        "median_ratio": None if opts.no_raw else round(statistics.median(r["ratio"] for r in rounds), 3),
        "median_cpu_ratio": None if opts.no_raw else round(statistics.median(r["cpu_ratio"] for r in rounds), 3),
        "batched_over_single": spread("batched_ratio"), "batched_over_single_cpu": spread("batched_cpu_ratio"),
        "batched_over_single_all_threads": spread("batched_over_single_all") if "single_all" in sides else None,
        "all_threads": all_threads, "batched_options": batched_opts,
        "batched_workers": opts.workers or default_workers(threads), "loadavg": spread("loadavg"),
        "batched_tokens_per_s": spread("batched_tokens_per_s"), "single_tokens_per_s": spread("intentkg_tokens_per_s"),
        "raw_tokens_per_s": None if opts.no_raw else spread("raw_tokens_per_s"), "goal_batched_over_single": 3.0,
        "pooled_ratio": None if opts.no_raw else round(
            sum(r["intentkg_tokens"] for r in rounds) / sum(r["intentkg_tokens"] / r["intentkg_tokens_per_s"] for r in rounds)
            / (sum(r["raw_tokens"] for r in rounds) / sum(r["raw_tokens"] / r["raw_tokens_per_s"] for r in rounds)), 3),
        "cached_rerun_cli_wall_s": [round(w, 2) for w in cached_walls],
        "cached_rerun_stage_s": Workspace(last).manifest("generate").seconds,
        "command": "python bench/bench_generate.py " + " ".join(sys.argv[1:]),
    }
    print(json.dumps(result, indent=2))
    if opts.json:
        opts.json.write_text(json.dumps(result, indent=2))
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
