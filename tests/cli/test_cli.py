"""The CLI as a user runs it: a real subprocess, errors as one line, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow.parquet as pq


def _cli(*args, cwd=None):
    env = dict(os.environ, INTENTKG_NO_PROGRESS="1", COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "intentkg.cli.main", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120)


def test_ingest_esci_then_status_and_lineage(shared_data, tmp_path):
    ws = tmp_path / "ws"
    result = _cli("ingest", "esci", shared_data / "esci-sample", "-w", ws, "--split", "all")
    assert result.returncode == 0, result.stderr
    assert "behaviors: search_buy" in result.stdout
    again = _cli("ingest", "esci", shared_data / "esci-sample", "-w", ws, "--split", "all")
    assert "skipped" in again.stderr
    status = _cli("status", ws)
    assert "ingest" in status.stdout and "complete" in status.stdout
    behavior_id = pq.read_table(ws / "ingest" / "behaviors.parquet").column("behavior_id")[0].as_py()
    lineage = _cli("lineage", ws, behavior_id)
    assert lineage.returncode == 0, lineage.stderr
    assert "shopping_queries_dataset_examples.parquet row" in lineage.stdout
    assert "shopping_queries_dataset_products.parquet row" in lineage.stdout


def test_bad_input_is_one_clear_line_without_traceback(tmp_path):
    (tmp_path / "p.csv").write_text("sku,name\nP1,Tent\n")
    result = _cli("ingest", "table", tmp_path / "p.csv", "--role", "products", "-w", tmp_path / "ws")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "p.csv" in result.stderr and "'product_id'" in result.stderr and "--map" not in result.stdout
    mapped = _cli("ingest", "table", tmp_path / "p.csv", "--role", "products", "--map", "product_id=sku",
                  "--map", "title=name", "-w", tmp_path / "ws")
    assert mapped.returncode == 0, mapped.stderr


def test_lineage_of_unknown_id_and_missing_workspace(tmp_path):
    result = _cli("lineage", tmp_path, "abc")
    assert result.returncode == 2 and "not a workspace" in result.stderr


def test_bad_config_file_names_the_field(tmp_path):
    config = tmp_path / "ingest.yaml"
    config.write_text("sources:\n  - kind: table\n    role: sales\n    path: x.csv\n")
    result = _cli("ingest", "run", config, "-w", tmp_path / "ws")
    assert result.returncode == 2 and "ingest.yaml" in result.stderr and "role" in result.stderr
