"""`intentkg build --memory-limit/--spill-dir/--threads`: the cap reaches DuckDB, the spill folder is
cleaned up, and the resources change how the KG is built, never what: the same KG, no re-run."""

from __future__ import annotations

import json

import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

from intentkg import duck
from intentkg.errors import ConfigError
from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig
from intentkg.workspace import Workspace


def _contents(ws: Workspace) -> dict:
    kg = ws.stage_dir("kg")
    edges = ds.dataset(kg / "edges", format="parquet", partitioning="hive").to_table()
    return {"nodes": ws.read("kg", "nodes").to_pylist(),  # written sorted by node id
            "edges": sorted(edges.to_pylist(), key=lambda r: (r["relation"], r["head"], r["tail"]))}


def test_memory_cap_threads_and_spill_dir_give_the_same_kg_and_clean_up(kg_workspace, tmp_path):
    run_build(kg_workspace, BuildConfig(hierarchy=False))
    default = _contents(kg_workspace)
    spill = tmp_path / "spill"
    manifest = run_build(kg_workspace, BuildConfig(hierarchy=False, memory_limit="100MB", threads=1, spill_dir=spill))
    # resources are not in the fingerprint: the same inputs and point are not built again
    assert manifest.finished_at == kg_workspace.manifest("kg").finished_at
    forced = run_build(kg_workspace, BuildConfig(hierarchy=False, memory_limit="100MB", threads=1, spill_dir=spill),
                       force=True)
    assert forced.extra["resources"]["memory_limit_bytes"] == 100 * 10**6
    assert _contents(kg_workspace) == default
    assert spill.exists() and list(spill.iterdir()) == []  # its own sub-folder is gone; the given folder stays
    assert not (kg_workspace.stage_dir("kg") / ".spill").exists()


def test_limits_reach_duckdb(tmp_path):
    limits = duck.Limits(memory_limit="256MiB", spill_dir=tmp_path / "s", threads=1, preserve_insertion_order=False)
    con = duck.connect(limits)
    settings = dict(con.execute("""SELECT name, value FROM duckdb_settings() WHERE name IN
        ('memory_limit', 'temp_directory', 'threads', 'preserve_insertion_order')""").fetchall())
    assert settings["memory_limit"] in ("256.0 MiB", "256 MiB") and settings["threads"] == "1"
    assert settings["temp_directory"] == str(tmp_path / "s") and settings["preserve_insertion_order"] == "false"
    assert duck.memory_bytes("25%") == duck.memory_bytes(None) == int(duck.total_memory() * 0.25)
    assert duck.memory_bytes("1.5GB") == 1_500_000_000 and duck.memory_bytes("2GiB") == 2 * 2**30


@pytest.mark.parametrize("bad", ["lots", "0%", "150%", "10MB", "4 GBs"])
def test_a_bad_memory_limit_says_what_to_give(bad):
    with pytest.raises(ConfigError, match="memory limit"):
        BuildConfig(memory_limit=bad)


def test_cli_build_takes_the_cap(kg_workspace, tmp_path):
    from intentkg.cli.main import cli

    root = str(kg_workspace.root)
    result = CliRunner().invoke(cli, ["build", "-w", root, "--no-hierarchy", "--memory-limit", "512MB",
                                      "--spill-dir", str(tmp_path / "spill"), "--threads", "1"])
    assert result.exit_code == 0, result.output
    resources = json.loads((kg_workspace.stage_dir("kg") / "manifest.json").read_text())["extra"]["resources"]
    assert resources["memory_limit_bytes"] == 512 * 10**6 and resources["threads"] == 1
    bad = CliRunner().invoke(cli, ["build", "-w", root, "--memory-limit", "plenty"])
    assert isinstance(bad.exception, ConfigError) and "memory limit 'plenty'" in str(bad.exception)
