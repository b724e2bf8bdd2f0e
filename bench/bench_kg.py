"""KG benchmark (issue 17 items 3 and 4), every ratio against a baseline measured in the same run.

    .venv/bin/python bench/bench_kg.py                                  # builds + lookups at 1M and 10M
    .venv/bin/python bench/bench_kg.py --sizes 1000000 --compare-size 0 # quicker
    .venv/bin/python bench/bench_kg.py --workspaces /tmp/kgws           # reuse made workspaces (ws<size>)

Build: each build runs in a fresh subprocess; its peak RSS is the kernel's high-water mark of that
process (``ru_maxrss``: Python, Arrow and DuckDB together). Every size builds at the default
configuration (memory cap 25% of RAM, spill to <ws>/kg/.spill); at ``--compare-size`` the same
build also runs at DuckDB's own default memory limit (80% of RAM, the old configuration), rounds
alternating, and with ``--baseline-src`` the code before the cap as well. Goal: 10M candidates in
<= 4 GB peak and no slower than 1,170 s (the last measurement, loaded machine).

Lookup: "intentions for a query / product" (:class:`intentkg.kg.query.KnowledgeGraph`, through the
derived head index, and the bare ``HeadEdges.of``) against the Parquet scan it falls back to, the
previous DuckDB index (``kg/index.duckdb``, when the KG was built by that code) and a full scan
(pyarrow reads every edge file and filters in memory), rounds alternating. Goal: p99 <= 5 ms at
10M edges and >= 100x faster than the full scan. Lookups on KGs already built, re-deriving the
index from their files first (a KG built before the current index format)::

    .venv/bin/python bench/bench_kg.py --sizes 10000000 --workspaces /tmp/kgws --lookups-only --reindex
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

RELATIONS = ["used_for_function", "used_for_event", "used_for_audience", "used_in_location", "used_in_body",
             "used_with", "xIs_a", "xWant", "xInterested_in", "capable_of", "is_a", "used_as", "used_on",
             "used_by", "used_to"]
MODIFIERS = ["winter", "summer", "indoor", "outdoor", "family", "budget", "travel", "night", "kids", "pro",
             "beginner", "quick", "daily", "weekend", "holiday", "rainy", "small space", "office", "school", "home"]
ACTIVITIES = ["camping", "hiking", "cooking", "baking", "running", "yoga", "gardening", "painting", "reading",
              "cleaning", "fishing", "cycling", "swimming", "gaming", "studying", "sleeping", "parties",
              "picnics", "road trips", "photography", "dog walking", "baby care", "skin care", "workouts",
              "meal prep", "coffee brewing", "home office work", "birthday party", "moving house", "tea time"]


def _tails(n: int) -> list[str]:
    phrases = [a for a in ACTIVITIES] + [f"{m} {a}" for m in MODIFIERS for a in ACTIVITIES]
    extra = [f"{m} {a} {i}" for i in range(max(0, n - len(phrases))) for m, a in [(MODIFIERS[i % 20], ACTIVITIES[i % 30])]]
    return (phrases + extra)[:n]


def make_workspace(root: Path, candidates: int, seed: int = 0) -> None:
    """ingest/behaviors + products, generate/candidates, filter/scores with manifests, in batches."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from intentkg.workspace import Workspace

    rng = np.random.default_rng(seed)
    behaviors_n = max(1000, candidates // 10)
    products_n = max(500, behaviors_n // 5)
    ws = Workspace(root)
    pid = np.array([f"P{i:08d}" for i in range(products_n)], dtype=object)
    categories = np.array([f"category {i}" for i in range(18)], dtype=object)
    with ws.run("ingest", config={"synthetic": candidates}) as run:
        run.write("products", pa.table({"product_id": pid, "title": [f"Product {i}" for i in range(products_n)],
                                        "category": categories[np.arange(products_n) % 18],
                                        "source": ["bench"] * products_n, "source_file": ["synthetic"] * products_n,
                                        "source_row": np.arange(1, products_n + 1)}))
        kinds = np.where(np.arange(behaviors_n) % 2 == 0, "co_buy", "search_buy")
        left_p = rng.integers(0, products_n, behaviors_n)
        right_p = (left_p + 1 + rng.integers(0, products_n - 1, behaviors_n)) % products_n
        queries = np.array([f"query {i % (behaviors_n // 4 + 1)}" for i in range(behaviors_n)], dtype=object)
        left = np.where(kinds == "co_buy", pid[left_p], queries)
        run.write("behaviors", pa.table({
            "behavior_id": [f"b{i:012d}" for i in range(behaviors_n)], "kind": kinds, "left": left,
            "right": pid[right_p], "left_text": left, "right_text": pid[right_p],
            "support": rng.integers(1, 20, behaviors_n), "category": categories[right_p % 18],
            "pii_redactions": np.zeros(behaviors_n, dtype=np.int32), "source": ["bench"] * behaviors_n,
            "source_file": ["synthetic"] * behaviors_n, "source_row": np.arange(1, behaviors_n + 1)}))
    tails = np.array(_tails(50_000), dtype=object)
    batch = 500_000
    with ws.run("generate", config={"synthetic": candidates}, inputs=["ingest"]) as gen_run, \
            ws.run("filter", config={"synthetic": candidates}, inputs=["ingest"]) as filter_run:
        for start in range(0, candidates, batch):
            n = min(batch, candidates - start)
            ids = [f"c{i:012d}" for i in range(start, start + n)]
            behavior = rng.integers(0, behaviors_n, n)
            tail = tails[np.minimum(rng.zipf(1.3, n) - 1, len(tails) - 1)]
            gen_run.write("candidates", pa.table({
                "candidate_id": ids, "behavior_id": [f"b{i:012d}" for i in behavior],
                "kind": np.where(behavior % 2 == 0, "co_buy", "search_buy"), "head": ["h"] * n,
                "relation": np.array(RELATIONS, dtype=object)[rng.integers(0, 15, n)], "tail": tail,
                "position": np.ones(n, dtype=np.int32), "raw_text": tail, "parse_status": ["ok"] * n,
                "prompt_id": ["qa"] * n, "template_version": ["1"] * n, "model_id": ["synthetic"] * n,
                "model_hash": ["0"] * n, "request_key": ids, "sample": np.zeros(n, dtype=np.int32)}))
            flags = pa.array([[] if r > 0.3 else ["too_short"] for r in rng.random(n)], pa.list_(pa.string()))
            filter_run.write("scores", pa.table({
                "candidate_id": ids, "rule_flags": flags, "rule_details": pa.array([[]] * n, pa.list_(pa.string())),
                "dup_count": np.zeros(n, dtype=np.int32), "plausibility": rng.random(n),
                "typicality": rng.random(n), "critic_id": ["synthetic-critic"] * n}))


BUILD = """
import json, resource, sys, time
sys.path.insert(0, {src!r})
from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig
t = time.perf_counter()
m = run_build({ws!r}, BuildConfig(**{extra!r}), embed=None, force=True)
u = resource.getrusage(resource.RUSAGE_SELF)
print("\\n" + json.dumps({{"seconds": time.perf_counter() - t, "cpu_s": u.ru_utime + u.ru_stime, "edges": m.counts["edges"],
                  "kept": m.counts["candidates_kept"], "hierarchy": m.counts["hierarchy"], "timings": m.timings,
                  "peak_rss_mb": u.ru_maxrss / 1024}}), flush=True)
"""
SRC = str(Path(__file__).resolve().parents[1] / "src")
EXTRA: dict = {"hierarchy": True}  # BuildConfig fields every build of this run gets
CAPPED: dict = {}  # BuildConfig fields of the capped builds (--memory-limit)


def build(ws: Path, src: str = SRC, **extra) -> dict:
    extra = {**EXTRA, **extra}
    out = subprocess.run(["nice", "-n", "10", sys.executable, "-c", BUILD.format(src=src, ws=str(ws), extra=extra)],
                         capture_output=True, text=True, env=dict(os.environ, INTENTKG_NO_PROGRESS="1"))
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    # the last JSON line: DuckDB's progress bar may write to stdout before it (no newline) or after it
    return json.loads(next(line for line in reversed(out.stdout.splitlines()) if line.startswith("{")))


def _ms(xs: list[float], q: float) -> float:
    return float(np.percentile(np.array(xs) * 1000, q))


def reindex(ws: Path) -> float:
    """Re-derive kg/index/ from the committed edges and nodes (a KG built by an older intentkg); seconds."""
    sys.path.insert(0, SRC)
    import shutil

    from intentkg import duck
    from intentkg.kg.index import INDEX_DIR, write_index

    folder = ws / "kg"
    shutil.rmtree(folder / INDEX_DIR, ignore_errors=True)
    t = time.perf_counter()
    con = duck.connect(duck.Limits(memory_limit=CAPPED.get("memory_limit"), spill_dir=folder / ".spill-reindex"))
    write_index(con, folder / INDEX_DIR, folder / "edges", folder / "nodes.parquet")
    con.close()
    shutil.rmtree(folder / ".spill-reindex", ignore_errors=True)
    return time.perf_counter() - t


def lookups(ws: Path, n: int = 1000, rounds: int = 2) -> dict:
    """Every method over the same heads, rounds alternating (ABBA); returns p50/p99 per method."""
    sys.path.insert(0, SRC)
    import duckdb

    from intentkg.kg.head_edges import HeadEdges
    from intentkg.kg.index import head_key
    from intentkg.kg.query import KnowledgeGraph, query_node
    from intentkg.workspace import Workspace

    kg = KnowledgeGraph(ws)
    assert kg.heads.indexed, "the KG has no fresh index (rebuild, or --reindex)"
    behaviors = str(ws / "ingest" / "behaviors.parquet")
    queries = sorted(r[0] for r in kg.con.execute(
        "SELECT DISTINCT left_text FROM read_parquet(?) WHERE kind = 'search_buy'", [behaviors]).fetchall())
    products = sorted(r[0] for r in kg.con.execute(
        "SELECT DISTINCT \"right\" FROM read_parquet(?)", [behaviors]).fetchall())
    rng = random.Random(0)
    asked = [("query", q) for q in rng.sample(queries, min(n, len(queries)))] + \
            [("product", p) for p in rng.sample(products, min(n, len(products)))]
    rng.shuffle(asked)
    scan = HeadEdges(Workspace(ws), use_index=False)

    def head(kind, value):
        return query_node(value) if kind == "query" else f"product:{value}"

    methods = {  # name: (lookup, how many of the asked heads a round times)
        "index (KnowledgeGraph API)": (lambda k, v: kg.intentions_for_query(v) if k == "query"
                                       else kg.intentions_for_product(v), len(asked)),
        "index (HeadEdges.of)": (lambda k, v: kg.heads.of([head(k, v)]), len(asked)),
        "parquet scan (HeadEdges.of)": (lambda k, v: scan.of([head(k, v)]), max(20, n // 20)),
    }
    old = ws / "kg" / "index.duckdb"
    if old.exists():  # the previous index format, if this KG was built by the code before: the same query it ran
        con = duckdb.connect(str(old), read_only=True, config={"threads": 1})
        columns = "head, relation, tail, intention, broader, plausibility, typicality, support"
        sql = f"SELECT {columns} FROM intentions WHERE head_key = ? AND head = ? ORDER BY relation, tail"

        def duck_index(kind, value):
            h = head(kind, value)
            return con.execute(sql, [head_key(h), h]).fetch_arrow_table()
        methods["previous index.duckdb (DuckDB query)"] = (duck_index, len(asked))
    dataset = ds.dataset(ws / "kg" / "edges", format="parquet", partitioning="hive")

    def full_scan(kind, value):  # pyarrow reads every edge file and filters in memory
        table = dataset.to_table(columns=["head", "tail", "support", "plausibility"])
        return table.filter(pc.equal(table.column("head"), head(kind, value)))
    methods["full scan (pyarrow)"] = (full_scan, 5)
    from intentkg.query_key import query_key

    query_key("order 1234567")  # loads Presidio once (the scrubber runs it on a query with 6+ digits)
    warm = [next(a for a in asked if a[0] == kind) for kind in ("query", "product")]
    for fn, _ in methods.values():
        for item in warm:  # the first query also loads the PII scrubber behind query keys
            fn(*item)
    times: dict[str, list[float]] = {name: [] for name in methods}
    per_round: dict[str, list[float]] = {name: [] for name in methods}  # each round's p99
    for r in range(rounds):
        for name in (list(methods) if r % 2 == 0 else list(methods)[::-1]):
            fn, count = methods[name]
            this = []
            for kind, value in asked[:count]:
                t = time.perf_counter()
                fn(kind, value)
                this.append(time.perf_counter() - t)
            times[name] += this
            per_round[name].append(_ms(this, 99))
    out = {"lookups": len(asked) * rounds, "load_after": _load(), "nice": os.nice(0),
           "methods": {name: {"n": len(xs), "p50_ms": _ms(xs, 50), "p99_ms": _ms(xs, 99), "max_ms": _ms(xs, 100),
                              "round_p99_ms": per_round[name]} for name, xs in times.items()}}
    ours, full = out["methods"]["index (KnowledgeGraph API)"], out["methods"]["full scan (pyarrow)"]
    out.update({"index_p50_ms": ours["p50_ms"], "index_p99_ms": ours["p99_ms"],
                "full_scan_p50_ms": full["p50_ms"], "full_p50_over_index_p99": full["p50_ms"] / ours["p99_ms"],
                "full_over_index_p50": full["p50_ms"] / ours["p50_ms"]})
    return out


def print_lookups(size: int, r: dict) -> None:
    print(f"\nlookups, {size:,} candidates ({r['lookups']} per index method, rounds alternating; load after "
          f"{r['load_after']}, nice {r['nice']})")
    print(f"{'method':<40} {'n':>6} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}  p99 per round: median (min-max)")
    for name, m in r["methods"].items():
        rp = m["round_p99_ms"]
        print(f"{name:<40} {m['n']:>6} {m['p50_ms']:>9.3f} {m['p99_ms']:>9.3f} {m['max_ms']:>9.1f}  "
              f"{np.median(rp):.3f} ({min(rp):.3f}-{max(rp):.3f})")
    met = r["index_p99_ms"] <= 5 and r["full_p50_over_index_p99"] >= 100
    print(f"full scan p50 / index p99 = {r['full_p50_over_index_p99']:.0f}x, full / index p50 = "
          f"{r['full_over_index_p50']:.0f}x; goal p99 <= 5 ms and >= 100x: {'met' if met else 'NOT met'}")


def workspace(size: int, root: Path | None) -> Path:
    if root is not None and (root / f"ws{size}" / "filter").exists():
        return root / f"ws{size}"
    folder = (root / f"ws{size}") if root else Path(tempfile.mkdtemp(prefix=f"bench-kg-{size}-"))
    t = time.perf_counter()
    make_workspace(folder, size)
    print(f"made {size:,} candidates in {time.perf_counter() - t:.0f} s", flush=True)
    return folder


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def compare(size: int, root: Path | None, rounds: int, baseline_src: str | None) -> None:
    ws = workspace(size, root)
    capped = f"capped ({CAPPED.get('memory_limit', 'default 25%')})"
    configs = {capped: (SRC, dict(CAPPED)), "DuckDB default (80%)": (SRC, {"memory_limit": "80%"})}
    if baseline_src:
        configs["before the cap (baseline src)"] = (baseline_src, {})
    results: dict[str, list[dict]] = {name: [] for name in configs}
    for r in range(rounds):
        for name, (src, extra) in (list(configs.items()) if r % 2 == 0 else list(configs.items())[::-1]):
            load = _load()
            result = build(ws, src, **extra)
            result["load"] = load
            results[name].append(result)
            print(json.dumps({"size": size, "config": name, "round": r, **result}), flush=True)
    print(f"\n{size:,} candidates, {rounds} rounds alternating (median, min-max)")
    print(f"{'configuration':<32} {'build_s':>22} {'peak_rss_MB':>24}")
    for name, rows in results.items():
        secs, peaks = [x["seconds"] for x in rows], [x["peak_rss_mb"] for x in rows]
        print(f"{name:<32} {np.median(secs):>8.1f} ({min(secs):.0f}-{max(secs):.0f}) "
              f"{np.median(peaks):>10.0f} ({min(peaks):.0f}-{max(peaks):.0f})")
    base = results["DuckDB default (80%)"]
    capped = results[capped]
    for label, base in (("DuckDB default", base), ("before the cap", results.get("before the cap (baseline src)"))):
        if not base:
            continue
        ratios = [c["seconds"] / b["seconds"] for c, b in zip(capped, base)]
        peaks = [c["peak_rss_mb"] / b["peak_rss_mb"] for c, b in zip(capped, base)]
        print(f"capped / {label}: time median {np.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}), "
              f"peak RSS median {np.median(peaks):.2f} ({min(peaks):.2f}-{max(peaks):.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--compare-size", type=int, default=3_000_000, help="0: skip the configuration comparison")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--baseline-src", help="a src/ folder of the code before the cap, built at --compare-size")
    parser.add_argument("--workspaces", type=Path, help="keep / reuse workspaces here (ws<size>)")
    parser.add_argument("--no-lookups", action="store_true")
    parser.add_argument("--lookups-only", action="store_true", help="no builds: lookups on the --workspaces KGs")
    parser.add_argument("--reindex", action="store_true", help="before the lookups, re-derive kg/index/ from the "
                                                               "committed files (a KG built by older code)")
    parser.add_argument("--lookup-heads", type=int, default=1000, help="queries and as many products asked")
    parser.add_argument("--lookup-rounds", type=int, default=4)
    parser.add_argument("--memory-limit", help="BuildConfig.memory_limit of the --sizes builds and of the capped "
                                                   "configuration at --compare-size (default: 25%% of RAM)")
    parser.add_argument("--threads", type=int, help="BuildConfig.threads of every build (default: every core)")
    parser.add_argument("--no-hierarchy", action="store_true", help="skip the hierarchy (its clustering runs at "
                                                                     "<= 20,000 intentions and then dominates)")
    args = parser.parse_args()
    EXTRA.update({"hierarchy": not args.no_hierarchy})
    if args.threads:
        EXTRA["threads"] = args.threads
    if args.memory_limit:
        CAPPED["memory_limit"] = args.memory_limit
    if args.compare_size:
        compare(args.compare_size, args.workspaces, args.rounds, args.baseline_src)
    results = []
    for size in args.sizes:
        ws = workspace(size, args.workspaces)
        result = {"candidates": size, "load": _load()}
        if not args.lookups_only:
            result.update(build(ws, **CAPPED))
            print(json.dumps(result), flush=True)
        if args.reindex:
            result["reindex_s"] = reindex(ws)
        if not args.no_lookups:
            result.update(lookups(ws, args.lookup_heads, args.lookup_rounds))
            print_lookups(size, result)
        results.append(result)
        print(json.dumps(result), flush=True)
    if not args.lookups_only:
        print("\ncandidates  kept       edges       build_s   cpu_s  peak_rss_MB  goal(<=4096 MB, <=1170 s at 10M)  load")
        for r in results:
            print(f"{r['candidates']:>10,} {r['kept']:>10,} {r['edges']:>11,} {r['seconds']:>8.1f} {r['cpu_s']:>7.0f}"
                  f" {r['peak_rss_mb']:>11.0f}  {'met' if r['peak_rss_mb'] <= 4096 and r['seconds'] <= 1170 else 'NOT met':>8}"
                  f"  {r['load']}")


if __name__ == "__main__":
    main()
