"""CSV reading with line accounting (intentkg.ingest.csv_lines) against a bare Arrow read of the same file.

    .venv/bin/python bench/bench_ingest_csv.py                 # 2,000,000 lines, Instacart order-line shape
    .venv/bin/python bench/bench_ingest_csv.py --lines 500000 --stray 10

Baseline in the same run: ``pyarrow.csv.read_csv`` of the same file with the same binary column
types and multi-line values allowed (what the reader did before it counted lines). Ours adds the
line count, the per-record line spans, file line numbers and, with ``--stray N``, N unbalanced
quotes spread through the file (each costs one re-parse of the rest of the file).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _write(path: Path, lines: int, stray: int) -> None:
    every = lines // (stray + 1) if stray else 0
    with open(path, "w") as handle:
        handle.write("order_id,product_id,add_to_cart_order,reordered\n")
        for i in range(lines):
            quote = '"' if every and i % every == every // 2 else ""
            handle.write(f"{quote}{i // 10},{(i * 7919) % 50000},{i % 10 + 1},{i % 2}\n")


def _best(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--stray", type=int, default=0)
    args = parser.parse_args()

    import pyarrow as pa
    import pyarrow.csv as pacsv

    from intentkg.ingest.csv_lines import load_csv, read_header
    from intentkg.ingest.quarantine import Quarantine

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "order_products.csv"
        _write(path, args.lines, args.stray)
        header = read_header(path, ",")

        def baseline():
            pacsv.read_csv(path, read_options=pacsv.ReadOptions(use_threads=False, block_size=1 << 24),
                           parse_options=pacsv.ParseOptions(newlines_in_values=True,
                                                            invalid_row_handler=lambda row: "skip"),
                           convert_options=pacsv.ConvertOptions(column_types={h: pa.binary() for h in header}))

        quarantine = Quarantine()

        def ours():
            quarantine.__init__()
            load_csv(path, ",", quarantine)

        base, mine = _best(baseline), _best(ours)
        ledger = quarantine.files[str(path)]
        print(f"{args.lines:,} lines, {args.stray} stray quotes ({path.stat().st_size / 1e6:.0f} MB)")
        print(f"arrow read_csv (baseline): {base:.2f} s   {args.lines / base / 1e6:.2f} M lines/s")
        print(f"csv_lines.load_csv:        {mine:.2f} s   {args.lines / mine / 1e6:.2f} M lines/s")
        print(f"ratio ours / baseline: {mine / base:.2f}x   ledger: {ledger}")


if __name__ == "__main__":
    main()
