"""Workspace faults a user or an attacker can cause: a build that keeps nothing, two builds at once, a
copied workspace, planted links."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import time

import pytest
from helpers.kg_workspace import make_workspace
from helpers.kill import SRC
from typer.testing import CliRunner

from intentkg.cli.main import cli
from intentkg.workspace import Workspace


def _cli(*args):
    """Run the CLI in-process; a user error (IntentkgError) is part of the output, as the real CLI prints it."""
    result = CliRunner().invoke(cli, [str(a) for a in args], env={"COLUMNS": "200"})
    result.text = result.output + (f"\nerror: {result.exception}" if result.exception else "")
    return result


def test_a_build_that_keeps_nothing_writes_and_reports_an_empty_kg(tmp_path):
    """Old code: nodes.parquet replaced by an empty table, kg/edges deleted, a raw FileNotFoundError,
    and the manifest still reporting the previous build's nodes and edges."""
    ws = make_workspace(tmp_path)
    assert _cli("build", "-w", ws.root, "--no-hierarchy").exit_code == 0
    assert ws.manifest("kg").counts["edges"] > 0
    result = _cli("build", "-w", ws.root, "--no-hierarchy", "--min-plausibility", "0.99")
    assert result.exit_code == 0, result.text
    assert "the KG is empty" in result.output
    manifest = ws.manifest("kg")
    assert manifest.status == "complete" and manifest.counts["edges"] == 0
    assert manifest.outputs["nodes"].rows == 0 and manifest.outputs["edges"].rows == 0
    status = _cli("status", ws.root)
    assert status.exit_code == 0 and "changed" not in status.output and "kg" in status.output
    query = _cli("kg", "query", ws.root, "--query", "winter camping gear", "--json")
    assert query.exit_code == 0, query.text
    assert query.output.strip() in ("[]", "{}") or "winter camping" not in query.output


def test_a_second_build_at_the_same_time_is_refused_and_the_first_completes(tmp_path):
    """Old code: two parallel builds both failed and left the kg stage failed."""
    ws = make_workspace(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(SRC)!r})
        from intentkg.workspace import Workspace
        with Workspace({str(ws.root)!r}).run("kg", config={{}}) as run:
            print("holding", flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        result = _cli("build", "-w", ws.root, "--no-hierarchy")
        assert result.exit_code != 0
        assert f"stage 'kg' ({ws.root / 'kg'}) is being run by pid {holder.pid}" in " ".join(result.text.split())
        assert "running" in _cli("status", ws.root).output
    finally:
        holder.kill()
        holder.wait()
    assert "interrupted" in _cli("status", ws.root).output  # killed while holding the lock
    assert _cli("build", "-w", ws.root, "--no-hierarchy").exit_code == 0
    assert ws.manifest("kg").status == "complete"


def test_a_copied_workspace_answers_on_demand_with_its_own_critic(tmp_path):
    """Old code: the filter's manifest recorded the critic as the path given, so on-demand knowledge (and
    `serve refresh`) on a copy looked for the original workspace's critic; here the original is gone."""
    pytest.importorskip("transformers")
    import helpers.fake_llm as fake_llm
    from helpers.filter_workspace import make_tiny_critic

    from intentkg.filter import FilterConfig, run_filter
    from intentkg.knowledge.on_demand import SCRATCH, generate_for_queries

    ws = make_workspace(tmp_path / "a")
    critic = make_tiny_critic(ws.root / "critic-model", "two_heads")
    config = FilterConfig.model_validate({"critic": {"path": str(critic)}, "completeness": {"scorer": "generation"},
                                          "similarity": {"enabled": False}, "dedup": {"semantic": False},
                                          "thresholds": {"min_plausibility": None}})
    run_filter(ws, config, force=True, quiet=True)
    assert ws.manifest("filter").config["critic"]["path"] == "critic-model"
    shutil.copytree(ws.root, tmp_path / "copy")
    shutil.rmtree(tmp_path / "a")
    copy = Workspace(tmp_path / "copy")
    facts = generate_for_queries(copy, ["yoga at home"], backend=fake_llm.FakeBackend())
    assert len(facts) == 1
    scratch = Workspace(copy.root / SCRATCH)
    critics = [m.file for m in scratch.manifest("filter").models if m.role == "critic"]
    assert critics and all(f.startswith(str(copy.root / "critic-model")) for f in critics)
    assert _cli("status", copy.root, "--check").exit_code == 0


def test_kg_explore_replaces_a_planted_link_instead_of_writing_through_it(tmp_path):
    """Old code: `kg explore` overwrote the file a planted kg/explorer.html link pointed at."""
    ws = make_workspace(tmp_path / "a")
    assert _cli("build", "-w", ws.root, "--no-hierarchy").exit_code == 0
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    (ws.root / "kg" / "explorer.html").symlink_to(outside)
    result = _cli("kg", "explore", ws.root)
    assert result.exit_code == 0, result.text
    assert outside.read_text() == "precious"
    page = ws.root / "kg" / "explorer.html"
    assert not page.is_symlink() and "intentkg KG explorer" in page.read_text()


def test_status_shows_an_output_edited_after_its_run(tmp_path):
    ws = make_workspace(tmp_path)
    assert _cli("build", "-w", ws.root, "--no-hierarchy").exit_code == 0
    nodes = ws.root / "kg" / "nodes.parquet"
    time.sleep(0.01)
    nodes.write_bytes(nodes.read_bytes()[:-10])
    result = _cli("status", ws.root, "--check")
    assert result.exit_code == 1
    assert "changed" in result.output and "nodes changed since the run" in " ".join(result.output.split())
