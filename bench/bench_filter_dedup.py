"""MinHash near-duplicate dedup at 100 k, 300 k and 1 M candidates: recall, precision, time, peak memory.

    .venv/bin/python bench/bench_filter_dedup.py                  # 100k, 300k, 1M (~5-10 min on 2 cores)
    .venv/bin/python bench/bench_filter_dedup.py --sizes 100000 --rounds 3 --baseline-src /tmp/old/src

Recall and precision (first size): the exact ground truth is brute force on a sample: for
``--sample`` (1000) seeded random distinct tails, every other distinct tail whose character n-gram
set has Jaccard >= the threshold with it (exact set arithmetic). Recall = share of those pairs whose
two tails end in the same lexical cluster (what dedup folds); cluster precision = share of the
same-cluster pairs involving a sampled tail that are true pairs (connected components chain, so a
cluster may join tails below the threshold). Goal: recall >= 0.98 at the configured threshold (0.8).

``--baseline-src`` runs an older checkout's ``src`` (e.g. ``git worktree add /tmp/old <commit>``)
in alternating rounds with ours on the same files: time ratio ours / baseline (goal <= 1.0) and the
baseline's recall, medians and min-max over ``--rounds``.

What is timed (one fresh process per size, so peak RSS is that size's alone): from the rules pass's
output (rows.parquet, built untimed) to every candidate's dup_of / dup_count: distinct tails in
DuckDB, MinHash signatures (datasketch's affine32 scheme, computed in bulk), banded LSH, verification,
connected components, then the per-behaviour and global duplicate windows in DuckDB.
Baseline in the same run: datasketch's own MinHashLSH (insert + query every distinct tail) on the
100 k set, the textbook way to do this in Python.
The scaling exponent is the least-squares slope of log(seconds) and log(peak RSS) against log(n).
"""

from __future__ import annotations

import argparse
import json
import math
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


def _prepare(n: int, folder: Path) -> None:
    from intentkg.filter import FilterConfig, passes
    from intentkg.filter.inputs import connect as _connect
    from intentkg.filter.synthetic import write_synthetic_workspace

    ws = write_synthetic_workspace(folder / "ws", n, seed=0)
    config = FilterConfig()
    con = _connect(config, folder)
    sql = passes.input_sql(ws.table_path("generate", "candidates"), ws.table_path("ingest", "behaviors"),
                           ws.table_path("ingest", "products"))
    passes.rules_pass(con, sql, n, config, folder / "rows.parquet")


def _dedup(folder: Path, tag: str = "ours") -> dict:
    import numpy as np

    from intentkg.filter import FilterConfig, passes
    from intentkg.filter.dedup import cluster_tails, duplicate_sql
    from intentkg.filter.inputs import connect as _connect
    from intentkg.filter.scores_rows import register_clusters as _register_clusters

    config = FilterConfig.model_validate({"dedup": {"semantic": False}})
    scratch = Path(tempfile.mkdtemp(prefix=f"run-{tag}-", dir=folder))
    con = _connect(config, scratch)
    rows = folder / "rows.parquet"
    base = _rss_mb()
    start = time.perf_counter()
    counts = passes.distinct_tails(con, rows, scratch / "tails.parquet")
    clusters = cluster_tails(passes.tail_texts(con, scratch / "tails.parquet", "key", 65536), counts,
                             config.dedup, scratch)
    _register_clusters(con, clusters, scratch / "tails.parquet")
    con.execute(f"""CREATE TABLE base AS SELECT r.row, r.behavior_id, r.head_key, r.relation, c.cluster,
                    len(r.flags) AS n_flags, r.tail_logprob AS completeness, r.position, r.sample, r.candidate_id
                    FROM read_parquet('{rows}') r LEFT JOIN tails t ON t.key = r.key
                    LEFT JOIN clusters c ON c.tail_idx = t.tail_idx""")
    con.execute(f"CREATE TABLE dups AS {duplicate_sql('base', config.dedup)}")
    dropped, folded = con.execute("SELECT count(dup_of_row), sum(dup_count) FROM dups").fetchall()[0]
    seconds = time.perf_counter() - start
    np.save(folder / f"labels-{tag}.npy", np.asarray(clusters.lexical))
    keys = con.execute(f"SELECT key FROM read_parquet('{scratch / 'tails.parquet'}') ORDER BY tail_idx").fetchall()
    (folder / "keys.json").write_text(json.dumps([k[0] for k in keys]))
    return {"candidates": con.execute("SELECT count(*) FROM base").fetchall()[0][0], "seconds": seconds,
            "peak_rss_mb": _rss_mb(), "base_rss_mb": base, "distinct_tails": int(len(counts)),
            "lexical_pairs": clusters.stats.get("lexical_pairs"), "clusters": clusters.stats.get("lexical_clusters"),
            "duplicates": int(dropped), "folded": int(folded or 0), "bands_rows": [clusters.stats.get("lexical_bands"),
                                                                                 clusters.stats.get("lexical_rows")],
            "max_tails_in_ram": int(np.asarray(counts).nbytes),
            "search": {k: v for k, v in clusters.stats.items() if k.startswith("lexical_")}}


def exact_pairs(keys: list[str], threshold: float, ngram: int, sample: int, folder: Path) -> set[tuple[int, int]]:
    """Brute force on a sample: every pair (i, j) with i among ``sample`` seeded random tails and j any
    tail, whose n-gram sets have Jaccard >= threshold (exact set arithmetic, vectorised: ShingleSets,
    which a test checks against Python sets)."""
    import random

    import numpy as np

    from intentkg.filter.minhash import MinHasher
    from intentkg.filter.shingle_sets import ShingleSets

    n = len(keys)
    sets = ShingleSets(folder / "truth-sets.u32", n)
    MinHasher(num_perm=8, ngram=ngram).signatures(keys, sets)
    sets.finish()
    everyone = np.arange(n)
    found = set()
    for i in sorted(random.Random(0).sample(range(n), min(sample, n))):
        sims = sets.jaccard(np.full(n, i), everyone)
        for j in np.flatnonzero(sims >= threshold - 1e-6).tolist():
            if j != i:
                found.add((min(i, j), max(i, j)))
    return found


def quality(labels, truth: set[tuple[int, int]], sampled: set[int]) -> dict:
    import numpy as np

    same = sum(1 for i, j in truth if labels[i] == labels[j])
    sizes = dict(zip(*np.unique(labels, return_counts=True)))
    cluster_pairs = sum(int(sizes[labels[i]]) - 1 for i in sampled)  # same-cluster pairs with a sampled tail
    doubled = sum(1 for i, j in truth if i in sampled and j in sampled)  # counted from both ends above
    return {"true_pairs": len(truth), "recall": round(same / len(truth), 4) if truth else 1.0,
            "cluster_pairs": cluster_pairs - doubled,
            "cluster_precision": round(same / max(cluster_pairs - doubled, 1), 4) if cluster_pairs else 1.0}


def _datasketch(folder: Path) -> dict:
    import duckdb
    from datasketch import MinHash, MinHashLSH

    from intentkg.filter.minhash import lsh_params, shingles

    keys = [r[0] for r in duckdb.connect().execute(
        f"SELECT DISTINCT key FROM read_parquet('{folder / 'rows.parquet'}') WHERE key IS NOT NULL").fetchall()]

    base = _rss_mb()
    start = time.perf_counter()
    lsh = MinHashLSH(threshold=0.8, num_perm=64, params=lsh_params(0.8, 64))
    pairs = 0
    for i, key in enumerate(keys):
        m = MinHash(num_perm=64, seed=1, scheme="affine32")
        m.update_batch([g.encode() for g in shingles(key, 3)])
        pairs += len(lsh.query(m))
        lsh.insert(i, m)
    seconds = time.perf_counter() - start
    return {"distinct_tails": len(keys), "seconds": seconds, "peak_rss_mb": _rss_mb(), "base_rss_mb": base,
            "candidate_pairs": pairs}


def _run(*args, src: str | None = None) -> dict:
    env = dict(os.environ, INTENTKG_NO_PROGRESS="1")
    if src:
        env["PYTHONPATH"] = src
        env["INTENTKG_BENCH_SRC"] = src
    out = subprocess.run([sys.executable, __file__, "--child", *map(str, args)], capture_output=True, text=True,
                         env=env)
    if out.returncode != 0:
        raise SystemExit(f"{args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _slope(xs: list[float], ys: list[float]) -> float:
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        step, arg = sys.argv[2], sys.argv[3]
        if step == "prepare":
            _prepare(int(sys.argv[4]), Path(arg))
            print("{}")
        elif step == "dedup":
            print(json.dumps(_dedup(Path(arg), sys.argv[4])))
        else:
            print(json.dumps(_datasketch(Path(arg))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--no-baseline", action="store_true", help="skip datasketch's MinHashLSH baseline")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds at the first size")
    parser.add_argument("--sample", type=int, default=1000, help="tails whose every exact pair is the ground truth")
    parser.add_argument("--baseline-src", default=None, help="an older checkout's src folder to compare with")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    root = Path(tempfile.mkdtemp(prefix="bench-filter-dedup-"))
    results = []
    for index, n in enumerate(sizes):
        folder = root / str(n)
        folder.mkdir()
        _run("prepare", folder, n)
        rounds = args.rounds if index == 0 else 1
        runs, old_runs = [], []
        for _ in range(rounds):
            runs.append(_run("dedup", folder, "ours"))
            if args.baseline_src and index == 0:
                old_runs.append(_run("dedup", folder, "baseline", src=args.baseline_src))
        r = dict(runs[-1], seconds=statistics.median(x["seconds"] for x in runs),
                 seconds_min_max=[round(min(x["seconds"] for x in runs), 2), round(max(x["seconds"] for x in runs), 2)])
        results.append({"n": n, **r})
        print(f"n={n:>9,}  distinct tails {r['distinct_tails']:>8,}  {r['seconds']:6.1f} s (median of {rounds}, "
              f"min-max {r['seconds_min_max']})  {n / r['seconds']:>9,.0f} candidates/s  peak RSS "
              f"{r['peak_rss_mb']:,.0f} MB (inputs loaded {r['base_rss_mb']:,.0f} MB)  duplicates {r['duplicates']:,}  "
              f"lexical pairs {r['lexical_pairs']:,}  search {r['search']}", flush=True)
        if index == 0:
            import numpy as np

            from intentkg.filter.config import DedupConfig

            cfg = DedupConfig()
            keys = json.loads((folder / "keys.json").read_text())
            started = time.perf_counter()
            truth = exact_pairs(keys, cfg.lexical_threshold, cfg.ngram, args.sample, folder)
            sampled = set(__import__("random").Random(0).sample(range(len(keys)), min(args.sample, len(keys))))
            results[-1]["quality"] = quality(np.load(folder / "labels-ours.npy"), truth, sampled)
            print(f"  exact ground truth: {len(truth):,} pairs with Jaccard >= {cfg.lexical_threshold} for "
                  f"{len(sampled):,} sampled of {len(keys):,} distinct tails ({time.perf_counter() - started:.0f} s); ours: "
                  f"{results[-1]['quality']} (goal recall >= 0.98)", flush=True)
            if old_runs:
                old_q = quality(np.load(folder / "labels-baseline.npy"), truth, sampled)
                ratios = [a["seconds"] / b["seconds"] for a, b in zip(runs, old_runs)]
                results[-1]["baseline"] = {"seconds": statistics.median(x["seconds"] for x in old_runs),
                                           "quality": old_q, "search": old_runs[-1].get("search"),
                                           "time_ratio_median": round(statistics.median(ratios), 3),
                                           "time_ratio_min_max": [round(min(ratios), 3), round(max(ratios), 3)]}
                print(f"  baseline ({args.baseline_src}): {results[-1]['baseline']['seconds']:.1f} s (median), "
                      f"{old_q}; time ours / baseline: median {statistics.median(ratios):.3f}, min-max "
                      f"{min(ratios):.3f}-{max(ratios):.3f} (goal <= 1.0)", flush=True)
    if len(results) > 1:
        t_exp = _slope(sizes, [r["seconds"] for r in results])
        m_exp = _slope(sizes, [r["peak_rss_mb"] for r in results])
        d_exp = _slope(sizes, [max(r["peak_rss_mb"] - r["base_rss_mb"], 1) for r in results])
        print(f"scaling exponent: time {t_exp:.2f}, peak RSS {m_exp:.2f}, RSS above baseline {d_exp:.2f} "
              f"(1.0 = linear)")
    if not args.no_baseline:
        b = _run("datasketch", root / str(sizes[0]))
        ours = results[0]
        print(f"baseline datasketch MinHashLSH on the {sizes[0]:,} set ({b['distinct_tails']:,} distinct tails): "
              f"{b['seconds']:.1f} s, peak RSS {b['peak_rss_mb']:,.0f} MB; ours {ours['seconds']:.1f} s "
              f"-> speed-up {b['seconds'] / ours['seconds']:.1f}x")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
