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
