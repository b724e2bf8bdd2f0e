"""The filter's rules pass (pass 1) on synthetic candidates (default 1 M): time and peak memory against
the floor of any rules pass and against the per-row checker it replaced, in one run.

    .venv/bin/python bench/bench_filter_rules.py                       # 1,000,000 candidates, 2 rounds
    .venv/bin/python bench/bench_filter_rules.py --n 200000 --rounds 3

Each measurement runs in its own process (peak RSS belongs to it alone), in ABBA order over rounds:
- floor: DuckDB runs the pass's input query (candidates joined with behaviours and products, the
  same columns) with ``lower(tail)`` added and streams it to Arrow batches — what any rules pass
  must at least do;
- batched: ``passes.rules_pass`` as the stage runs it (every rule, the keys later passes group by,
  rows.parquet written) with :class:`~intentkg.filter.rules_batch.BatchRuleChecker`;
- per-row: the same pass with the per-row :class:`~intentkg.filter.rules.RuleChecker`
  (``workers.rules_rows_per_row``), the code before the batched checker.
- baseline (``--baseline-src``): the batched pass of another checkout's ``src`` (e.g.
  ``git archive <commit> src``) on the same workspace: time and peak RSS ratios ours / it.
Goal (issue 17.1): 1 M candidates in <= 15 s on 2 cores, peak <= 1 GB. The batched output is
compared row for row with the per-row and the baseline outputs at the end (any difference is
printed and fails the run). ``--workspace DIR`` keeps the synthetic workspace for the next run.

    .venv/bin/python bench/bench_filter_rules.py --steps floor,batched --rounds 4 --workspace /tmp/rules1m \
        --baseline-src /tmp/old/src
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.environ.get("INTENTKG_BENCH_SRC") or str(ROOT / "src"))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(step: str, ws: str, out: str) -> dict:
    from intentkg.filter import FilterConfig, passes
    from intentkg.filter.inputs import connect
    from intentkg.workspace import Workspace

    workspace = Workspace(ws)
    if step == "make":
        from intentkg.filter.synthetic import write_synthetic_workspace

        start = time.perf_counter()
        write_synthetic_workspace(ws, int(out), seed=0)
        return {"seconds": time.perf_counter() - start}
    candidates = workspace.table_path("generate", "candidates")
    config = FilterConfig(**({"duckdb_memory_limit": os.environ["BENCH_MEMORY_LIMIT"]}
                             if os.environ.get("BENCH_MEMORY_LIMIT") else {}))
    scratch = Path(tempfile.mkdtemp(prefix="bench-rules-"))
    con = connect(config, scratch)
    total = con.execute(f"SELECT count(*) FROM read_parquet('{candidates}')").fetchall()[0][0]
    sql = passes.input_sql(candidates, workspace.table_path("ingest", "behaviors"),
                           workspace.table_path("ingest", "products"))
    base = _rss_mb()
    start = time.perf_counter()
    if step == "floor":
        from intentkg.duck import reader

        rows = sum(b.num_rows for b in reader(con, f"SELECT *, lower(tail) AS lower_tail FROM ({sql})",
                                              config.batch_rows))
        assert rows == total
    elif step in ("batched", "per_row", "baseline"):
        if step == "per_row":
            from intentkg.filter import workers
            from intentkg.filter.rules import RuleChecker

            def per_row(self, rules, default_shown):
                self.checker = RuleChecker(rules, default_shown)

            workers.RulesWorker.__init__ = per_row
            workers.RulesWorker.__call__ = lambda self, batch: workers.rules_rows_per_row(self.checker,
                                                                                         batch.to_pydict())
        passes.rules_pass(con, sql, total, config, Path(out))
    else:
        raise SystemExit(f"unknown step {step}")
    seconds = time.perf_counter() - start
    return {"rows": total, "seconds": seconds, "peak_rss_mb": _rss_mb(), "base_rss_mb": base}


_MEMORY: dict[str, str] = {}


def _run(step: str, ws: Path, out: str = "", src: str | None = None) -> dict:
    env = dict(os.environ, INTENTKG_NO_PROGRESS="1", **_MEMORY)
    if src:  # the batched pass of another checkout (--baseline-src)
        env.update(PYTHONPATH=src, INTENTKG_BENCH_SRC=src)
    done = subprocess.run([sys.executable, __file__, "--child", step, str(ws), out], capture_output=True, text=True,
                          env=env)
    if done.returncode != 0:
        raise SystemExit(f"{step} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _same_rows(a: Path, b: Path) -> int:
    """Rows that differ between the two passes' outputs (0: identical), joined by candidate id.

    Not by ``row``: since issue 15.4 a row is the candidate's rank by content, before it was its position
    in the candidates file, so a baseline from before that numbers the same candidates differently."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{a}')").fetchall()
             if r[0] not in ("row", "candidate_id")]
    differs = " OR ".join(f'x."{n}" IS DISTINCT FROM y."{n}"' for n in names)
    counts = con.execute(f"SELECT count(*), count(*) FILTER (WHERE {differs}) FROM read_parquet('{a}') x "
                         f"FULL JOIN read_parquet('{b}') y USING (candidate_id)").fetchall()[0]
    return int(counts[1]) + abs(int(counts[0]) - con.execute(f"SELECT count(*) FROM read_parquet('{a}')").fetchall()[0][0])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], sys.argv[3], sys.argv[4])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2, help="ABBA: odd rounds in one order, even in the reverse")
    parser.add_argument("--steps", default="floor,batched,per_row", help="comma-separated subset of the steps")
    parser.add_argument("--memory-limit", default=None, help="filter.duckdb_memory_limit for every step (default: the config's)")
    parser.add_argument("--baseline-src", default=None,
                        help="another checkout's src folder: its batched pass runs as the step 'baseline'")
    parser.add_argument("--workspace", type=Path, default=None,
                        help="keep the synthetic workspace here and reuse it when it exists (same --n)")
    args = parser.parse_args()
    if args.memory_limit:
        _MEMORY["BENCH_MEMORY_LIMIT"] = args.memory_limit
    folder = Path(tempfile.mkdtemp(prefix="bench-filter-rules-"))
    ws = args.workspace or folder / "ws"
    if args.workspace and (ws / "generate").exists():
        print(f"synthetic workspace: reused {ws}; load average {os.getloadavg()[0]:.1f}")
    else:
        made = _run("make", ws, str(args.n))
        print(f"synthetic workspace: {args.n:,} candidates in {made['seconds']:.1f} s ({ws}); "
              f"load average {os.getloadavg()[0]:.1f}")
    steps = [s for s in ("floor", "batched", "per_row") if s in args.steps.split(",")]
    if args.baseline_src:
        steps.append("baseline")
    results: dict[str, list[dict]] = {s: [] for s in steps}
    for round_ in range(args.rounds):
        for step in (steps if round_ % 2 == 0 else steps[::-1]):
            r = _run(step, ws, str(folder / f"{step}.parquet"), args.baseline_src if step == "baseline" else None)
            results[step].append(r)
            print(f"round {round_ + 1} {step:8s} {r['seconds']:7.1f} s  {r['rows'] / r['seconds']:>10,.0f} rows/s  "
                  f"peak RSS {r['peak_rss_mb']:,.0f} MB  (load {os.getloadavg()[0]:.1f})", flush=True)
    med = {s: statistics.median(r["seconds"] for r in results[s]) for s in steps}
    span = {s: (min(r["seconds"] for r in results[s]), max(r["seconds"] for r in results[s])) for s in steps}
    peak = {s: max(r["peak_rss_mb"] for r in results[s]) for s in steps}
    for s in steps:
        print(f"{s:8s} median {med[s]:7.1f} s ({span[s][0]:.1f}-{span[s][1]:.1f}), "
              f"{args.n / med[s]:,.0f} rows/s, peak RSS {peak[s]:,.0f} MB")
    for s, label in (("floor", "batched / floor (time)"), ("per_row", "batched / per-row (time)"),
                     ("baseline", "batched / baseline (time)")):
        if s in results and "batched" in results:
            ratio = [b["seconds"] / r["seconds"] for b, r in zip(results["batched"], results[s])]
            print(f"{label}: {statistics.median(ratio):.2f} ({min(ratio):.2f}-{max(ratio):.2f})")
    if "baseline" in results and "batched" in results:
        ratio = [b["peak_rss_mb"] / r["peak_rss_mb"] for b, r in zip(results["batched"], results["baseline"])]
        print(f"batched / baseline (peak RSS): {statistics.median(ratio):.2f} ({min(ratio):.2f}-{max(ratio):.2f})")
    differ = 0
    if "batched" in results:
        seconds_1m = med["batched"] * 1_000_000 / args.n
        print(f"goal: 1 M candidates <= 15 s and peak <= 1,024 MB -> {seconds_1m:.1f} s per 1 M, "
              f"peak {peak['batched']:,.0f} MB: {'met' if seconds_1m <= 15 and peak['batched'] <= 1024 else 'not met'}")
    for other in ("per_row", "baseline"):
        if "batched" in results and other in results:
            found = _same_rows(folder / "batched.parquet", folder / f"{other}.parquet")
            print(f"batched vs {other} output: {found} differing rows")
            differ += found
    print(json.dumps({"n": args.n, "results": results, "load_average": os.getloadavg()}))
    if differ:
        raise SystemExit("the batched pass wrote other rows than the per-row or baseline pass")


if __name__ == "__main__":
    main()
