"""KG benchmark: build time and peak memory at 1 M and 10 M synthetic candidate rows, and the latency
of "intentions for a query" against a full scan of the same Parquet, measured in one run.

    .venv/bin/python bench/bench_kg.py                       # 1M and 10M
    .venv/bin/python bench/bench_kg.py --sizes 1000000       # quicker

Baseline for the lookup: pyarrow reads every edge file of the same KG and filters in memory (a
full scan, no row-group pruning). Each build runs in a fresh subprocess so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
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
m = run_build({ws!r}, BuildConfig(hierarchy=True), embed=None)
print(json.dumps({{"seconds": time.perf_counter() - t, "edges": m.counts["edges"],
                  "kept": m.counts["candidates_kept"], "hierarchy": m.counts["hierarchy"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def build(ws: Path) -> dict:
    src = str(Path(__file__).resolve().parents[1] / "src")
    out = subprocess.run([sys.executable, "-c", BUILD.format(src=src, ws=str(ws))], capture_output=True,
                         text=True, env=dict(os.environ, INTENTKG_NO_PROGRESS="1"))
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def lookups(ws: Path, n: int = 100) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from intentkg.kg.query import KnowledgeGraph

    kg = KnowledgeGraph(ws)
    heads = [r[0] for r in kg.con.execute("SELECT DISTINCT left_text FROM read_parquet(?) WHERE kind='search_buy' "
                                          "USING SAMPLE 200 ROWS", [str(ws / "ingest" / "behaviors.parquet")]).fetchall()]
    random.Random(0).shuffle(heads)
    heads = heads[:n]
    ours = []
    for q in heads:
        t = time.perf_counter()
        kg.intentions_for_query(q)
        ours.append(time.perf_counter() - t)
    from intentkg.kg.query import query_node

    dataset = ds.dataset(ws / "kg" / "edges", format="parquet", partitioning="hive")
    scan = []
    for q in heads[: max(5, n // 10)]:  # the full scan is slow; fewer repetitions
        t = time.perf_counter()
        table = dataset.to_table(columns=["head", "tail", "support", "plausibility"])
        table.filter(pc.equal(table.column("head"), query_node(q)))
        scan.append(time.perf_counter() - t)
    p = lambda xs, q: float(np.percentile(np.array(xs) * 1000, q))  # noqa: E731
    return {"queries": len(ours), "ours_p50_ms": p(ours, 50), "ours_p99_ms": p(ours, 99),
            "full_scan_p50_ms": p(scan, 50), "speedup_p50": p(scan, 50) / p(ours, 50)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--keep", type=Path, help="keep workspaces under this folder")
    args = parser.parse_args()
    results = []
    for size in args.sizes:
        root = Path(tempfile.mkdtemp(prefix=f"bench-kg-{size}-", dir=args.keep))
        t = time.perf_counter()
        make_workspace(root, size)
        made = time.perf_counter() - t
        result = {"candidates": size, "make_seconds": round(made, 1), **build(root)}
        result.update(lookups(root))
        results.append(result)
        print(json.dumps(result), flush=True)
    print("\ncandidates  kept       edges       build_s  peak_rss_MB  lookup_p50_ms  full_scan_p50_ms  speedup")
    for r in results:
        print(f"{r['candidates']:>10,} {r['kept']:>10,} {r['edges']:>11,} {r['seconds']:>8.1f} "
              f"{r['peak_rss_mb']:>11.0f} {r['ours_p50_ms']:>14.2f} {r['full_scan_p50_ms']:>17.1f} "
              f"{r['speedup_p50']:>7.1f}x")
    if len(results) >= 2:
        a, b = results[0], results[-1]
        exponent = np.log(b["seconds"] / a["seconds"]) / np.log(b["candidates"] / a["candidates"])
        print(f"build time scaling exponent {a['candidates']:,} -> {b['candidates']:,}: {exponent:.2f}")
    _ = resource  # imported for the subprocess template's sake


if __name__ == "__main__":
    main()
