from __future__ import annotations

import json

import pyarrow as pa
import pytest

from intentkg.workspace import Workspace
from intentkg.workspace.fingerprint import sha256_file


def _products(n: int) -> pa.Table:
    return pa.table({"product_id": [f"P{i}" for i in range(n)], "title": [f"Item {i}" for i in range(n)],
                     "source": ["t"] * n, "source_file": ["f.csv"] * n, "source_row": list(range(1, n + 1))})


def test_manifest_records_config_inputs_outputs_and_counts(tmp_path):
    data = tmp_path / "input.csv"
    data.write_text("x\n1\n")
    ws = Workspace(tmp_path / "ws")
    with ws.run("demo", config={"a": 1}, inputs=[data]) as run:
        run.write("products", _products(2))
        run.write("products", _products(3))  # appended, not overwritten
        run.counts["rows_in"] = 5
        run.add_model("embedder", "test/model", data)
        with run.time("step"):
            pass
    manifest = json.loads((tmp_path / "ws" / "demo" / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["config"] == {"a": 1}
    assert manifest["inputs"][0]["sha256"] == sha256_file(data)
    assert manifest["outputs"]["products"]["rows"] == 5
    assert manifest["models"][0]["sha256"] == sha256_file(data)
    assert "step" in manifest["timings"] and manifest["intentkg_version"]
    assert ws.read("demo", "products").num_rows == 5


def test_unchanged_stage_is_skipped_and_changed_config_reruns(tmp_path):
    ws = Workspace(tmp_path)
    with ws.run("s", config={"k": 1}) as run:
        run.write("products", _products(1))
    with ws.run("s", config={"k": 1}) as run:
        assert run.skipped
    with ws.run("s", config={"k": 2}) as run:
        assert not run.skipped
        run.write("products", _products(2))
    with ws.run("s", config={"k": 2}, force=True) as run:
        assert not run.skipped
        run.write("products", _products(3))
    assert ws.read("s", "products").num_rows == 3


def test_upstream_stage_change_invalidates_downstream(tmp_path):
    ws = Workspace(tmp_path)
    with ws.run("up", config={}) as run:
        run.write("products", _products(1))
    with ws.run("down", config={}, inputs=["up"]) as run:
        run.write("products", _products(1))
    with ws.run("up", config={"v": 2}) as run:
        run.write("products", _products(2))
    with ws.run("down", config={}, inputs=["up"]) as run:
        assert not run.skipped


def test_failed_stage_keeps_previous_tables_out_of_sight_and_says_why(tmp_path):
    ws = Workspace(tmp_path)
    with pytest.raises(RuntimeError):
        with ws.run("s", config={}) as run:
            run.write("products", _products(4))
            raise RuntimeError("boom")
    manifest = ws.manifest("s")
    assert manifest.status == "failed" and "boom" in manifest.error
    assert not (tmp_path / "s" / "products.parquet").exists()
    with ws.run("s", config={}) as run:  # a failed stage is never skipped
        assert not run.skipped
        run.write("products", _products(1))
    assert ws.manifest("s").status == "complete"
