"""`intentkg build` keeps exactly what `intentkg view` keeps, at the one operating point of the workspace."""

from __future__ import annotations

import json

import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

from intentkg.cli.main import cli
from intentkg.filter.view import iter_view
from intentkg.kg.build import run_build
from intentkg.kg.canonical import canonical
from intentkg.kg.config import BuildConfig
from intentkg import operating_point
from intentkg.workspace import Workspace


def _edge_candidates(ws: Workspace) -> set[str]:
    edges = ds.dataset(ws.stage_dir("kg") / "edges", format="parquet", partitioning="hive").to_table(
        columns=["candidate_ids"]).column("candidate_ids").to_pylist()
    return {c for ids in edges for c in ids or []}


@pytest.fixture
def built_ws(filtered_ws, tmp_path):
    """A copy of the real filtered workspace (MiniLM similarity, Gemma completeness, trained critic), built."""
    import shutil

    root = tmp_path / "ws"
    shutil.copytree(filtered_ws, root)
    ws = Workspace(root)
    operating_point.save(ws, operating_point.OperatingPoint())  # other tests move the shared fixture's point
    return ws


def test_no_candidate_the_view_rejects_becomes_an_edge(built_ws):
    """Fails on the old build: it had no completeness or paraphrase gate, so input paraphrases and
    low-completeness tails that the funnel counts as rejected became edges."""
    point = operating_point.saved(built_ws)
    run_build(built_ws, BuildConfig(hierarchy=False))
    in_edges = _edge_candidates(built_ws)
    view = [row for batch in iter_view(built_ws, point) for row in batch.select(
        ["candidate_id", "kept", "merged", "reasons", "dup_of", "tail"]).to_pylist()]
    kept = {r["candidate_id"] for r in view if r["kept"]}
    rejected = {r["candidate_id"]: r["reasons"] for r in view if not r["kept"] and not r["merged"]}
    reasons = {reason for rs in rejected.values() for reason in rs}
    assert "input_paraphrase" in reasons, reasons  # the fixture exercises the gate the old build lacked
    assert not in_edges & set(rejected), {c: rejected[c] for c in list(in_edges & set(rejected))[:5]}
    # a merged duplicate is in only through a kept representative; every kept candidate is in
    merged_in = {r["candidate_id"] for r in view if r["merged"] and r["candidate_id"] in in_edges}
    assert all(r["dup_of"] in kept for r in view if r["candidate_id"] in merged_in)
    # a kept tail whose canonical form is empty ("the") makes no intention; every other one is an edge
    assert {r["candidate_id"] for r in view if r["kept"] and canonical(r["tail"] or "")} <= in_edges
    recorded = built_ws.manifest("kg").extra["operating_point"]
    assert recorded["max_input_similarity"] == point.max_input_similarity == 0.8
    assert recorded["min_completeness"] == point.min_completeness


def test_build_options_become_the_workspace_point(built_ws, tmp_path):
    """One decision: build's options are saved, so view and on-demand see the same point."""
    scores = built_ws.read("filter", "scores")
    plausibility = sorted(p for p in scores.column("plausibility").to_pylist() if p is not None)
    middle = round(plausibility[len(plausibility) // 2], 4)  # the tiny critic's scores are not spread over 0..1
    critic = tmp_path / "critic"
    critic.mkdir()
    (critic / "intentkg_critic.json").write_text(json.dumps({"thresholds": {"plausibility": middle,
                                                                            "typicality": 0.4}}))
    result = CliRunner().invoke(cli, ["build", "-w", str(built_ws.root), "--critic-metadata", str(critic),
                                      "--max-input-similarity", "0.6", "--no-hierarchy"])
    assert result.exit_code == 0, result.output
    point = operating_point.saved(built_ws)
    # the critic's plausibility threshold; its typicality threshold only when asked for (COSMO gates on plausibility)
    assert (point.min_plausibility, point.min_typicality, point.max_input_similarity) == (middle, None, 0.6)
    assert operating_point.OperatingPoint().with_critic(critic, typicality=True).min_typicality == 0.4
    assert operating_point.current(built_ws) == point == operating_point.built(built_ws)
    from intentkg.knowledge.on_demand import _filter_config

    assert _filter_config(built_ws, None).thresholds == point
    in_edges = _edge_candidates(built_ws)
    low = [r["candidate_id"] for b in iter_view(built_ws, point) for r in b.to_pylist()
           if r["plausibility"] is not None and r["plausibility"] < middle]
    assert low and not set(low) & in_edges
