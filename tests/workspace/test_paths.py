"""Paths inside a workspace are recorded relative to its root (a copy works), and every path read back
from a manifest must stay inside the workspace."""

from __future__ import annotations

import json
import shutil

import pyarrow as pa
import pytest

from intentkg.errors import IntentkgError
from intentkg.workspace import Workspace
from intentkg.workspace.lineage import trace


def _products(n: int) -> pa.Table:
    return pa.table({"product_id": [f"P{i}" for i in range(n)], "title": [f"Item {i}" for i in range(n)],
                     "source": ["t"] * n, "source_file": ["f.csv"] * n, "source_row": list(range(1, n + 1))})


def _two_stages(root):
    """`model` writes a file inside the workspace; `use` names it in its config and reads it as input."""
    ws = Workspace(root)
    with ws.run("model", config={}) as run:
        run.write("products", _products(1))
    weights = root / "model" / "products.parquet"
    with ws.run("use", config={"critic": {"path": str(weights)}}, inputs=[weights]) as run:
        run.write("products", _products(2))
        run.add_model("critic", "c", weights)
    return ws


def test_workspace_paths_are_recorded_relative_to_the_root(tmp_path):
    """Old code: recorded `tmp/.../model/weights` as given, so a copy pointed back at the original."""
    _two_stages(tmp_path / "ws")
    manifest = json.loads((tmp_path / "ws" / "use" / "manifest.json").read_text())
    assert manifest["config"] == {"critic": {"path": "model/products.parquet"}}
    assert manifest["inputs"][0]["name"] == "model/products.parquet"
    assert manifest["models"][0]["file"] == "model/products.parquet"
    assert manifest["workspace_paths"] == ["/critic/path"]


def test_a_copied_workspace_reads_its_own_files_and_skips_unchanged_stages(tmp_path):
    _two_stages(tmp_path / "ws")
    shutil.copytree(tmp_path / "ws", tmp_path / "copy")
    shutil.rmtree(tmp_path / "ws")  # the original is gone: nothing may point back at it
    copy = Workspace(tmp_path / "copy")
    weights = tmp_path / "copy" / "model" / "products.parquet"
    with copy.run("use", config={"critic": {"path": str(weights)}}, inputs=[weights]) as run:
        assert run.skipped  # same config and inputs, wherever the workspace is
    assert copy.stage_config("use") == {"critic": {"path": str(weights)}}
    with copy.run("next", config={}, inputs=["use"]) as run:
        run.write("products", copy.read("use", "products"))
    assert copy.manifest("next").status == "complete"


def test_a_manifest_output_outside_the_workspace_is_not_read(tmp_path):
    """Old code: `intentkg lineage` read and printed ../../outside/secret.parquet."""
    import pyarrow.parquet as pq

    outside = tmp_path / "outside"
    outside.mkdir()
    pq.write_table(_products(1).set_column(1, "title", pa.array(["SECRET"])), outside / "secret.parquet")
    ws = Workspace(tmp_path / "a" / "ws")
    with ws.run("ingest", config={}) as run:
        run.write("products", _products(1))
    path = tmp_path / "a" / "ws" / "ingest" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["outputs"]["products"]["path"] = "../../../outside/secret.parquet"
    path.write_text(json.dumps(manifest))
    with pytest.raises(IntentkgError, match=r"outside the workspace"):
        trace(ws, "P0")
    with pytest.raises(IntentkgError, match=r"outside the workspace"):
        ws.read("ingest", "products")


def test_a_planted_link_to_outside_is_neither_read_nor_written_through(tmp_path):
    outside = tmp_path / "outside.parquet"
    outside.write_bytes(b"precious")
    ws = Workspace(tmp_path / "ws")
    with ws.run("ingest", config={}) as run:
        run.write("products", _products(1))
    table = tmp_path / "ws" / "ingest" / "products.parquet"
    table.unlink()
    table.symlink_to(outside)
    with pytest.raises(IntentkgError, match=r"outside the workspace"):
        ws.read("ingest", "products")
    with ws.run("ingest", config={}) as run:  # the link makes the output "changed": re-run, link replaced
        assert not run.skipped
        run.write("products", _products(3))
    assert outside.read_bytes() == b"precious" and not table.is_symlink()
    assert ws.read("ingest", "products").num_rows == 3
