from __future__ import annotations

import json

import pyarrow as pa
import pytest

from intentkg.errors import IntentkgError
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


def test_a_failed_rerun_makes_the_stage_unreadable_until_it_runs_again(tmp_path):
    """Old code: the failed re-run left the previous products readable and `down` read them as fresh."""
    ws = Workspace(tmp_path)
    with ws.run("up", config={"v": 1}) as run:
        run.write("products", _products(2))
    with pytest.raises(RuntimeError):
        with ws.run("up", config={"v": 2}) as run:
            raise RuntimeError("boom")
    for read in (lambda: ws.read("up", "products"), lambda: ws.run("down", config={}, inputs=["up"])):
        with pytest.raises(IntentkgError, match=r"stage 'up' .* last run failed \(RuntimeError: boom\).*Re-run"):
            read()  # the previous outputs are not read ...
    assert ws.committed("up").status == "complete"  # ... though they are kept on disk, whole
    with ws.run("up", config={"v": 1}) as run:  # the previous settings: their outputs stand, skipped
        assert run.skipped
    assert ws.read("up", "products").num_rows == 2 and ws.attempt("up") is None


def test_a_second_concurrent_run_of_a_stage_is_refused(tmp_path):
    """Old code: both runs wrote the same .incoming folder and left the stage corrupt."""
    ws = Workspace(tmp_path)
    with ws.run("kg", config={}) as first:
        first.write("products", _products(1))
        with pytest.raises(IntentkgError, match=r"stage 'kg' .* is being run by pid \d+.*one run of a stage at a time"):
            with ws.run("kg", config={}, force=True):
                pass
        assert ws.manifest("kg").status == "running"
    assert ws.manifest("kg").status == "complete" and ws.read("kg", "products").num_rows == 1


def test_skip_verifies_output_hashes(tmp_path):
    """Old code: skipped whenever the files existed, whatever they held."""
    import pyarrow.parquet as pq

    ws = Workspace(tmp_path)
    with ws.run("s", config={}) as run:
        run.write("products", _products(3))
    pq.write_table(_products(1), tmp_path / "s" / "products.parquet")  # edited after the run
    with ws.run("s", config={}) as run:
        assert not run.skipped
        run.write("products", _products(3))
        run.write_json("summary.json", {"rows": 3})
    manifest = ws.manifest("s")
    assert manifest.outputs["summary.json"].rows is None
    assert manifest.outputs["summary.json"].sha256 == sha256_file(tmp_path / "s" / "summary.json")
    (tmp_path / "s" / "summary.json").write_text('{"rows": 99}')
    with ws.run("s", config={}) as run:
        assert not run.skipped
        run.write("products", _products(3))
        run.write_json("summary.json", {"rows": 3})
    assert json.loads((tmp_path / "s" / "summary.json").read_text()) == {"rows": 3}
    with ws.run("s", config={}) as run:
        assert run.skipped


def test_outputs_a_rerun_no_longer_writes_are_removed(tmp_path):
    ws = Workspace(tmp_path)
    with ws.run("s", config={"v": 1}) as run:
        run.write("products", _products(1))
        run.write_json("old.json", {})
    with ws.run("s", config={"v": 2}) as run:
        run.write("products", _products(2))
    assert not (tmp_path / "s" / "old.json").exists() and set(ws.manifest("s").outputs) == {"products"}


def test_amend_replaces_a_file_output_without_rerunning(tmp_path):
    ws = Workspace(tmp_path)
    with ws.run("filter", config={}) as run:
        run.write("products", _products(1))
    before = ws.manifest("filter")
    ws.amend("filter", {"operating_point.json": '{"min": 1}'}, extra={"operating_point": {"min": 1}})
    after = ws.manifest("filter")
    assert after.fingerprint == before.fingerprint and after.extra["operating_point"] == {"min": 1}
    assert after.outputs["operating_point.json"].sha256 == sha256_file(tmp_path / "filter" / "operating_point.json")
    with ws.run("filter", config={}) as run:
        assert run.skipped


def test_an_unreadable_manifest_is_named_and_a_rerun_replaces_it(tmp_path):
    ws = Workspace(tmp_path)
    with ws.run("s", config={}) as run:
        run.write("products", _products(1))
    (tmp_path / "s" / "manifest.json").write_text('{"stage": "s"')
    with pytest.raises(IntentkgError, match=r"s/manifest.json is not a valid manifest .*--force"):
        ws.read("s", "products")
    with ws.run("s", config={}) as run:
        assert not run.skipped
        run.write("products", _products(2))
    assert ws.read("s", "products").num_rows == 2
