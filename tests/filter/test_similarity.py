"""A tail far from its behaviour's texts is unrelated to it."""

from __future__ import annotations

import math

from intentkg.filter.similarity import unrelated


def test_tails_below_the_floor_are_unrelated_and_unknown_ones_pass():
    found = unrelated([0.05, 0.2, 0.6, None, math.nan, 0.19], 0.2)
    assert [i for i, _ in found] == [0, 5]
    assert found[0][1] == "cosine to the query and title 0.05 < 0.2: about something else"
    assert unrelated([0.0, 0.1], None) == []


def test_an_empty_side_is_not_a_source(tmp_path):
    """Fails on the old code: a query-only or product-only behaviour's empty side was embedded as the
    text "" and compared with the tail; MiniLM puts short tails near "" ("Car": 0.34), so unrelated
    tails passed the 0.2 floor (the catalogue's knowledge: unrelated_to_behavior fired on 0 of 494)."""
    import pyarrow.parquet as pq
    from helpers.filter_rows import rows_from_titles

    from intentkg.embed import load_embedder
    from intentkg.filter import passes
    from intentkg.filter.config import FilterConfig

    rows = [("Car", "Flash Furniture Commercial Grade Square Blue Metal Bar Height Table"),
            ("bar stools", "Flash Furniture Commercial Grade Square Blue Metal Bar Height Table")]
    con, path = rows_from_titles(tmp_path, rows, query_only=True)  # the title is on the query side, right is ""
    tails = tmp_path / "tails.parquet"
    n = len(passes.distinct_tails(con, path, tails))
    passes.embedding_pass(con, path, tails, n, load_embedder("all-MiniLM-L6-v2"), FilterConfig(), tmp_path, True)
    sims = dict(zip(*pq.read_table(tmp_path / "sim.parquet").to_pydict().values()))
    assert sims[0] < 0.2 < sims[1]  # "Car" is about something else; "bar stools" is not
    assert [i for i, _ in unrelated([sims[0], sims[1]], 0.2)] == [0]
