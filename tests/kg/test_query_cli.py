"""`intentkg kg query --query/--product` answer with the one knowledge lookup: exact facts, else the
embedding-nearest KG heads' (old code: an unseen query got nothing, and facts were ranked by support)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from intentkg.cli.main import cli
from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig


def _query(ws, *args):
    result = CliRunner().invoke(cli, ["kg", "query", str(ws.root), *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_unseen_query_borrows_from_its_nearest_kg_query(kg_workspace):
    run_build(kg_workspace, BuildConfig(hierarchy=False))
    rows = _query(kg_workspace, "--query", "camping gear for winter trips")
    assert rows and {r["source"] for r in rows} == {"query_nearest"}
    assert {r["neighbour"].lower() for r in rows} == {"winter camping gear"}  # the node keeps one logged casing
    assert "winter camping" in {r["intention"].lower() for r in rows}
    exact = _query(kg_workspace, "--query", "winter camping gear", "--no-nearest")
    assert {r["source"] for r in exact} == {"query"}
    scores = [r["score"] for r in exact]
    assert scores == sorted(scores, reverse=True)


def test_a_pair_with_the_evaluations_leave_own_out_flag(kg_workspace):
    """--query with --product gives the pair's facts and the evaluation's knowledge text; with
    --leave-out-query the query's own node and its purchase of S1 no longer count (old code: no
    pair mode, no flag)."""
    run_build(kg_workspace, BuildConfig(hierarchy=False))
    plain = _query(kg_workspace, "--query", "winter camping gear", "--product", "S1")
    assert {r["source"] for r in plain["facts"] if r["side"] == "query"} == {"query"}
    assert "snowy mountains" in {r["intention"] for r in plain["facts"] if r["side"] == "product"}
    assert plain["text"].startswith("query intent: ") and "snowy mountains" in plain["text"]
    left = _query(kg_workspace, "--query", "winter camping gear", "--product", "S1", "--leave-out-query")
    assert "query" not in {r["source"] for r in left["facts"]}
    assert "snowy mountains" not in {r["intention"] for r in left["facts"]} and "snowy mountains" not in left["text"]
    assert left["text"].startswith("product: ")  # no other logged query is near enough to answer for it
