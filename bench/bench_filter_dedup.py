"""MinHash near-duplicate dedup at 100 k, 300 k and 1 M candidates: time, peak memory, scaling exponent.

    .venv/bin/python bench/bench_filter_dedup.py                  # 100k, 300k, 1M (~5-10 min on 2 cores)
    .venv/bin/python bench/bench_filter_dedup.py --sizes 50000,100000

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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


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


def _dedup(folder: Path) -> dict:
    import numpy as np

    from intentkg.filter import FilterConfig, passes
    from intentkg.filter.dedup import cluster_tails, duplicate_sql
    from intentkg.filter.inputs import connect as _connect
    from intentkg.filter.scores_rows import register_clusters as _register_clusters

    config = FilterConfig.model_validate({"dedup": {"semantic": False}})
    scratch = folder / "run"
    scratch.mkdir()
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
    return {"candidates": con.execute("SELECT count(*) FROM base").fetchall()[0][0], "seconds": seconds,
            "peak_rss_mb": _rss_mb(), "base_rss_mb": base, "distinct_tails": int(len(counts)),
            "lexical_pairs": clusters.stats.get("lexical_pairs"), "clusters": clusters.stats.get("lexical_clusters"),
            "duplicates": int(dropped), "folded": int(folded or 0), "bands_rows": [clusters.stats.get("lexical_bands"),
                                                                                 clusters.stats.get("lexical_rows")],
            "max_tails_in_ram": int(np.asarray(counts).nbytes)}


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


def _run(*args) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *map(str, args)], capture_output=True, text=True,
                         env=dict(os.environ, INTENTKG_NO_PROGRESS="1"))
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
        else:
            print(json.dumps({"dedup": _dedup, "datasketch": _datasketch}[step](Path(arg))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    root = Path(tempfile.mkdtemp(prefix="bench-filter-dedup-"))
    results = []
    for n in sizes:
        folder = root / str(n)
        folder.mkdir()
        _run("prepare", folder, n)
        r = _run("dedup", folder)
        results.append({"n": n, **r})
        print(f"n={n:>9,}  distinct tails {r['distinct_tails']:>8,}  {r['seconds']:6.1f} s  "
              f"{n / r['seconds']:>9,.0f} candidates/s  peak RSS {r['peak_rss_mb']:,.0f} MB "
              f"(inputs loaded {r['base_rss_mb']:,.0f} MB)  duplicates {r['duplicates']:,}  "
              f"lexical pairs {r['lexical_pairs']:,}")
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
