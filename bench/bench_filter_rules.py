"""Rules + parsing throughput of the filter on synthetic candidates (default 1 M), with peak memory.

    .venv/bin/python bench/bench_filter_rules.py              # 1,000,000 candidates (~3-6 min on 2 cores)
    .venv/bin/python bench/bench_filter_rules.py --n 200000

Measured, each in its own process so peak RSS belongs to that step alone:
- parsing: the generator's answer parser (intentkg.generate.parse.parse_answer) over numbered-list
  answers that hold the same tails (items/s);
- rules: the filter's first pass (DuckDB join of candidates with behaviours and products, text
  normalisation, every rule, Parquet write) (rows/s).
Baseline in the same run: a bare Python loop that only lower-cases each tail and splits it into words,
the least any per-row rule pass must do (rows/s).
"""

from __future__ import annotations

import argparse
import json
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


def _child(step: str, ws: str) -> dict:
    import pyarrow.parquet as pq

    from intentkg.workspace import Workspace

    workspace = Workspace(ws)
    candidates = workspace.table_path("generate", "candidates")
    if step == "make":
        from intentkg.filter.synthetic import write_synthetic_workspace

        start = time.perf_counter()
        write_synthetic_workspace(ws, int(sys.argv[4]), seed=0)
        return {"seconds": time.perf_counter() - start}
    if step == "baseline":
        tails = pq.read_table(candidates, columns=["tail"]).column("tail").to_pylist()
        base = _rss_mb()
        start = time.perf_counter()
        words = 0
        for tail in tails:
            words += len((tail or "").lower().split())
        seconds = time.perf_counter() - start
        return {"rows": len(tails), "seconds": seconds, "peak_rss_mb": _rss_mb(), "base_rss_mb": base}
    if step == "parse":
        from intentkg.generate.parse import parse_answer

        table = pq.read_table(candidates, columns=["request_key", "position", "tail"])
        answers: dict[str, list[str]] = {}
        for key, tail in zip(table.column("request_key").to_pylist(), table.column("tail").to_pylist()):
            answers.setdefault(key, []).append(tail or "")
        texts = ["\n".join(f"{i}. {t}" for i, t in enumerate(items, 1)) for items in answers.values()]
        del table, answers
        base = _rss_mb()
        start = time.perf_counter()
        items = sum(len(parse_answer(text)) for text in texts)
        seconds = time.perf_counter() - start
        return {"answers": len(texts), "items": items, "seconds": seconds, "peak_rss_mb": _rss_mb(),
                "base_rss_mb": base}
    if step == "rules":
        from intentkg.filter import FilterConfig
        from intentkg.filter import passes
        from intentkg.filter.inputs import connect as _connect

        config = FilterConfig()
        scratch = Path(tempfile.mkdtemp(prefix="bench-rules-"))
        con = _connect(config, scratch)
        total = con.execute(f"SELECT count(*) FROM read_parquet('{candidates}')").fetchall()[0][0]
        sql = passes.input_sql(candidates, workspace.table_path("ingest", "behaviors"),
                               workspace.table_path("ingest", "products"))
        base = _rss_mb()
        start = time.perf_counter()
        passes.rules_pass(con, sql, total, config, scratch / "rows.parquet")
        seconds = time.perf_counter() - start
        flagged = con.execute(f"SELECT count(*) FROM read_parquet('{scratch / 'rows.parquet'}') "
                              f"WHERE len(flags) > 0").fetchall()[0][0]
        return {"rows": total, "flagged": flagged, "seconds": seconds, "peak_rss_mb": _rss_mb(), "base_rss_mb": base}
    raise SystemExit(f"unknown step {step}")


def _run(step: str, ws: Path, *extra) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", step, str(ws), *map(str, extra)],
                         capture_output=True, text=True, env=dict(os.environ, INTENTKG_NO_PROGRESS="1"))
    if out.returncode != 0:
        raise SystemExit(f"{step} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], sys.argv[3])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    ws = Path(tempfile.mkdtemp(prefix="bench-filter-rules-")) / "ws"
    made = _run("make", ws, args.n)
    print(f"synthetic workspace: {args.n:,} candidates in {made['seconds']:.1f} s ({ws})")
    results = {"n": args.n}
    for step in ("baseline", "parse", "rules"):
        try:
            r = _run(step, ws)
        except SystemExit as exc:
            print(f"{step}: skipped ({str(exc).splitlines()[0]})")
            continue
        count = r.get("items", r.get("rows"))
        rate = count / r["seconds"]
        results[step] = {**r, "per_second": rate}
        print(f"{step:9s} {count:>10,} in {r['seconds']:7.1f} s = {rate:>10,.0f}/s   "
              f"peak RSS {r['peak_rss_mb']:,.0f} MB (after loading inputs {r['base_rss_mb']:,.0f} MB)")
    if "rules" in results and "baseline" in results:
        ratio = results["rules"]["per_second"] / results["baseline"]["per_second"]
        print(f"rules pass / bare loop throughput: {ratio:.3f}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
