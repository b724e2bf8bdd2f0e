"""The filter's embedding step against raw sentence-transformers encode of the same texts, in one run.

    .venv/bin/python bench/bench_filter_embed.py             # 20,000 candidates (~2-4 min on 2 cores)
    .venv/bin/python bench/bench_filter_embed.py --n 5000

Both sides embed exactly the same texts (the distinct tails and distinct source texts of the
synthetic candidates) with the bundled all-MiniLM-L6-v2 on CPU:
- baseline: ``SentenceTransformer(path).encode(texts, batch_size=128, normalize_embeddings=True)``;
- ours: the filter's embedding pass (texts streamed from DuckDB in chunks, encoded, written to a float16
  memmap, then input similarity for every candidate row).
Runs alternate (baseline, ours, baseline, ours) and the best of each counts. Goal: ours / baseline >= 0.9.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("INTENTKG_NO_PROGRESS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from sentence_transformers import SentenceTransformer

    from intentkg.embed import load_embedder
    from intentkg.model_folder import bundled_path
    from intentkg.filter import FilterConfig, passes
    from intentkg.filter.inputs import connect as _connect
    from intentkg.filter.synthetic import write_synthetic_workspace

    root = Path(tempfile.mkdtemp(prefix="bench-filter-embed-"))
    ws = write_synthetic_workspace(root / "ws", args.n, seed=0)
    config = FilterConfig()
    con = _connect(config, root)
    rows = root / "rows.parquet"
    sql = passes.input_sql(ws.table_path("generate", "candidates"), ws.table_path("ingest", "behaviors"),
                           ws.table_path("ingest", "products"))
    passes.rules_pass(con, sql, args.n, config, rows)
    counts = passes.distinct_tails(con, rows, root / "tails.parquet")
    tails = [t for chunk in passes.tail_texts(con, root / "tails.parquet", "text", 1 << 20) for t in chunk]
    sources = [r[0] for r in con.execute(f"""
        SELECT text FROM (SELECT left_text AS text FROM read_parquet('{rows}') WHERE key IS NOT NULL
                          UNION SELECT right_text FROM read_parquet('{rows}') WHERE key IS NOT NULL)
        WHERE text IS NOT NULL ORDER BY text""").fetchall()]
    texts = tails + sources
    print(f"{args.n:,} candidates -> {len(tails):,} distinct tails + {len(sources):,} source texts = "
          f"{len(texts):,} texts")

    raw = SentenceTransformer(str(bundled_path("all-MiniLM-L6-v2")), device="cpu", local_files_only=True)
    embedder = load_embedder("all-MiniLM-L6-v2", batch_size=128)
    raw.encode(texts[:256], batch_size=128)  # warm-up both
    embedder.encode(texts[:256])
    best_raw = best_ours = float("inf")
    for round_ in range(args.rounds):
        start = time.perf_counter()
        raw.encode(texts, batch_size=128, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        t_raw = time.perf_counter() - start
        scratch = root / f"round{round_}"
        scratch.mkdir()
        start = time.perf_counter()
        passes.embedding_pass(con, rows, root / "tails.parquet", len(counts), embedder, config, scratch,
                              with_sources=True)
        t_ours = time.perf_counter() - start
        best_raw, best_ours = min(best_raw, t_raw), min(best_ours, t_ours)
        print(f"round {round_ + 1}: raw encode {t_raw:6.1f} s ({len(texts) / t_raw:,.0f} texts/s)   "
              f"filter embedding pass {t_ours:6.1f} s ({len(texts) / t_ours:,.0f} texts/s, "
              f"plus similarity for {args.n:,} rows)")
    ratio = best_raw / best_ours
    print(f"throughput ratio filter / raw encode (best of {args.rounds}): {ratio:.3f}  (goal >= 0.9)")
    print(json.dumps({"n": args.n, "texts": len(texts), "raw_seconds": best_raw, "ours_seconds": best_ours,
                      "ratio": ratio}))


if __name__ == "__main__":
    main()
