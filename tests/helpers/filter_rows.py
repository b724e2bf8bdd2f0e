"""rows.parquet through the filter's real rules pass, from (tail, title) pairs (filter tests)."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq


def rows_from_titles(tmp_path, tails_and_titles, query_only=False):
    """rows.parquet as the rules pass writes it, through the real pass (types from the titles).
    ``query_only``: behaviours as on-demand query knowledge has them, the text as the query, no product."""
    from intentkg.filter import passes
    from intentkg.filter.config import FilterConfig

    n = len(tails_and_titles)
    candidates = pa.table({
        "candidate_id": [f"c{i}" for i in range(n)], "behavior_id": [f"b{i}" for i in range(n)],
        "kind": ["search_buy"] * n, "head": [f"query {i} -> {t}" for i, (_, t) in enumerate(tails_and_titles)],
        "relation": ["used_for_event"] * n, "tail": [tail for tail, _ in tails_and_titles],
        "parse_status": ["ok"] * n, "position": [1] * n, "sample": [0] * n, "tail_logprob": [-1.0] * n,
        "request_key": [f"k{i}" for i in range(n)], "raw_text": [f" {tail}" for tail, _ in tails_and_titles]})
    behaviors = pa.table({"behavior_id": [f"b{i}" for i in range(n)], "kind": ["search_buy"] * n,
                          "left": [f"q{i}" for i in range(n)], "right": [f"p{i}" for i in range(n)],
                          "left_text": [t if query_only else f"query {i}" for i, (_, t) in enumerate(tails_and_titles)],
                          "right_text": ["" if query_only else t for _, t in tails_and_titles],
                          "category": pa.nulls(n, pa.string())})
    paths = {name: tmp_path / f"{name}.parquet" for name in ("candidates", "behaviors", "rows")}
    pq.write_table(candidates, paths["candidates"])
    pq.write_table(behaviors, paths["behaviors"])
    con = duckdb.connect()
    from intentkg.schemas import PRODUCTS

    con.register("empty_products", PRODUCTS.empty_table())
    passes.rules_pass(con, passes.input_sql(paths["candidates"], paths["behaviors"], None), n, FilterConfig(),
                      paths["rows"])
    return con, paths["rows"]
