"""PII scrubber benchmark: false positives on real product queries, recall on queries that hold
personal data (per kind), and throughput, for intentkg's Presidio scrubber against the regex
scrubber it replaced (the baseline, measured in the same run).

    .venv/bin/python bench/bench_pii.py              # prints the table and the goals
    .venv/bin/python bench/bench_pii.py --show 20    # and up to 20 false positives / misses each

False positives: a query the scrubber changes that holds no personal data. Measured on every real
query in ../shared/data (ESCI dev and sample queries, Instacart product names as queries) and on
the written product queries with numbers in bench/pii/data/pii_product_queries.txt; ESCI product
titles are counted too, as queries nobody tuned the rules on. Recall: a
query of bench/pii/data/pii_positive.tsv counts as caught when its personal value is gone and the
kind's placeholder is there. Both data files are written by bench/pii/queries.py (seeded templates).
Goals (issue 11): false positives <= 0.05% of real queries, recall >= 0.95.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE / "pii"))

import pyarrow.parquet as pq  # noqa: E402

import regex_baseline  # noqa: E402
from intentkg.pii import PLACEHOLDERS, scrub  # noqa: E402

SHARED = HERE.parent.parent / "shared" / "data"
FP_GOAL, RECALL_GOAL = 0.0005, 0.95


def real_queries(shared: Path) -> dict[str, list[str]]:
    out = {}
    for name in ("esci-dev", "esci-sample"):
        path = shared / name / "shopping_queries_dataset_examples.parquet"
        if path.exists():
            out[f"{name} queries"] = sorted(set(pq.read_table(path, columns=["query"]).column("query").to_pylist()))
    titles = set()
    for name in ("esci-dev", "esci-sample"):
        path = shared / name / "shopping_queries_dataset_products.parquet"
        if path.exists():
            titles |= {t for t in pq.read_table(path, columns=["product_title"]).column("product_title").to_pylist() if t}
    if titles:
        out["esci product titles"] = sorted(titles)
    path = shared / "instacart-sample" / "products.csv"
    if path.exists():
        with open(path, encoding="utf-8") as f:
            out["instacart product names"] = sorted({r["product_name"] for r in csv.DictReader(f)})
    return out


def written() -> tuple[list[str], list[tuple[str, str, str]]]:
    data = HERE / "pii" / "data"
    products = [q for q in (data / "pii_product_queries.txt").read_text(encoding="utf-8").splitlines() if q]
    with open(data / "pii_positive.tsv", encoding="utf-8") as f:
        positive = [(r["kind"], r["query"], r["value"]) for r in csv.DictReader(f, delimiter="\t")]
    return products, positive


def caught(scrubbed: str, kind: str, value: str) -> bool:
    return f"[{kind}]" in scrubbed and value.lower() not in scrubbed.lower()


def measure(name: str, fn, sets: dict[str, list[str]], positive, show: int) -> dict:
    row: dict = {"scrubber": name}
    for label, queries in sets.items():
        changed = [(q, fn(q)) for q in queries]
        changed = [(q, s) for q, s in changed if s != q]
        row[label] = (len(changed), len(queries))
        for q, s in changed[:show]:
            print(f"  [{name}] false positive ({label}): {q!r} -> {s!r}")
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for kind, query, value in positive:
        ok = caught(fn(query), kind, value)
        by_kind[kind][0] += ok
        by_kind[kind][1] += 1
        if not ok and by_kind[kind][1] - by_kind[kind][0] <= show:
            print(f"  [{name}] missed {kind}: {query!r} -> {fn(query)!r}")
    row["recall"] = dict(by_kind)
    timed = {"real queries": [q for label, qs in sets.items() if label != "written product queries" for q in qs],
             "queries with digits": [q for qs in sets.values() for q in qs if any(c.isdigit() for c in q)]
             + [q for _, q, _ in positive]}
    row["qps"] = {}
    for label, queries in timed.items():
        started = time.perf_counter()
        for q in queries:
            fn(q)
        row["qps"][label] = len(queries) / (time.perf_counter() - started)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--show", type=int, default=5, help="false positives and misses printed per set / kind")
    args = parser.parse_args()
    real = real_queries(args.shared)
    if not real:
        sys.exit(f"no real queries under {args.shared}: give --shared with the esci-dev, esci-sample, instacart-sample folders")
    products, positive = written()
    sets = {**real, "written product queries": products}
    scrub("warm up 555-867-5309")  # builds the analyzer once, outside the timing
    rows = [measure("presidio (intentkg)", lambda q: scrub(q).text, sets, positive, args.show),
            measure("regex (baseline)", lambda q: regex_baseline.scrub(q).text, sets, positive, args.show)]
    print()
    n_real = sum(len(q) for q in real.values())
    for row in rows:
        print(f"== {row['scrubber']}")
        for label in sets:
            bad, total = row[label]
            print(f"   false positives  {label:28s} {bad:5d} / {total:6d} = {bad / max(total, 1):7.3%}")
        bad_real = sum(row[label][0] for label in real)
        verdict = "meets" if bad_real / n_real <= FP_GOAL else "MISSES"
        print(f"   false positives  {'all real queries':28s} {bad_real:5d} / {n_real:6d} = {bad_real / n_real:7.3%}"
              f"   goal <= {FP_GOAL:.2%}: {verdict}")
        hits = sum(h for h, _ in row["recall"].values())
        total = sum(t for _, t in row["recall"].values())
        for kind, (h, t) in sorted(row["recall"].items()):
            print(f"   recall {kind:9s} {h:4d} / {t:4d} = {h / t:6.1%}")
        verdict = "meets" if hits / total >= RECALL_GOAL else "MISSES"
        worst = min(h / t for h, t in row["recall"].values())
        print(f"   recall all       {hits:4d} / {total:4d} = {hits / total:6.1%}   (worst kind {worst:.1%})"
              f"   goal >= {RECALL_GOAL:.0%}: {verdict}")
        for label, qps in row["qps"].items():
            print(f"   throughput       {qps:10,.0f} queries/s  ({label})")
    for label in rows[0]["qps"]:
        print(f"throughput ratio presidio / regex, {label}: {rows[0]['qps'][label] / rows[1]['qps'][label]:.3f}")
    print(f"placeholders: {sorted(set(PLACEHOLDERS.values()))}; each scrubber sees every text once (no cache), "
          "as ingest does for distinct queries")


if __name__ == "__main__":
    main()
