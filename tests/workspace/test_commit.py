"""A stage commits all its outputs or none: SIGKILL at every point of a run and of its commit, then
check what a reader sees, what `status` says, and that the re-run gives the uninterrupted result."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from helpers.kill import killed

from intentkg.errors import IntentkgError
from intentkg.workspace import Workspace
from intentkg.workspace.health import stage_state

STAGE = """
import json, sys
import pyarrow as pa
from intentkg.workspace import Workspace

def stage(root, v):
    ws = Workspace(root)
    with ws.run("s", config={"v": v}) as run:
        with run.time("work"):
            run.write("products", pa.table({"product_id": [f"P{i}" for i in range(v)],
                                            "title": [f"v{v}"] * v, "source": ["t"] * v,
                                            "source_file": ["f.csv"] * v, "source_row": list(range(v))}))
            edges = run.folder_output("edges")
            (edges / "relation=r").mkdir(parents=True)
            (edges / "relation=r" / "part-0.txt").write_text(f"v{v}")
            run.register_folder("edges", v)
            run.write_json("results.json", {"v": v})
"""


def _stage(root, v):
    namespace: dict = {}
    exec(STAGE, namespace)
    namespace["stage"](root, v)


def _contents(ws: Workspace) -> dict:
    return {"products": ws.read("s", "products").column("title").to_pylist(),
            "edges": (ws.read_dir("s") / "edges" / "relation=r" / "part-0.txt").read_text(),
            "results": json.loads((ws.read_dir("s") / "results.json").read_text()),
            "rows": {k: o.rows for k, o in ws.manifest("s").outputs.items()}}


BEFORE_COMMIT = ["s:step:work", "s:write:products", "s:commit:staged"]
DURING_COMMIT = ["s:commit:journal", "s:commit:moving", "s:commit:manifest"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("reference") / "ws"
    _stage(root, 1)
    _stage(root, 3)
    return _contents(Workspace(root))


@pytest.mark.parametrize("point", BEFORE_COMMIT + DURING_COMMIT)
def test_kill_at_any_point_then_rerun_gives_the_uninterrupted_result(tmp_path, point, uninterrupted):
    root = tmp_path / "ws"
    _stage(root, 1)
    killed(STAGE + f"\nstage({str(root)!r}, 3)\n", point)
    ws = Workspace(root)
    state = stage_state(ws, "s")
    if point in BEFORE_COMMIT:
        # the previous outputs stand, whole, and the interrupted run is shown and blocks readers
        assert state.status == "interrupted" and ws.changed_outputs(ws.committed("s")) == []
        assert ws.committed("s").config == {"v": 1}
        with pytest.raises(IntentkgError, match=r"stage 's' .* was interrupted .*Re-run"):
            ws.read("s", "products")
        _stage(root, 3)
    else:
        # the commit was decided: the first reader (here `status`) finishes it, nothing is mixed
        assert state.status == "complete" and state.changed == []
        assert not (root / "s" / ".commit.json").exists()
    assert _contents(ws) == uninterrupted
    assert stage_state(ws, "s").status == "complete"
    assert sorted(p.name for p in (root / "s").iterdir()) == [".lock", "edges", "manifest.json", "products.parquet",
                                                              "results.json"]


def test_a_journal_left_by_a_killed_commit_is_finished_before_a_reader_reads(tmp_path):
    """Old code: outputs were renamed one by one; a kill between them left new products beside old edges
    under the old manifest, and the next run skipped."""
    root = tmp_path / "ws"
    _stage(root, 1)
    killed(STAGE + f"\nstage({str(root)!r}, 3)\n", "s:commit:moving")
    assert (root / "s" / ".commit.json").exists()  # on disk: new products, old edges, old manifest
    ws = Workspace(root)
    assert ws.read("s", "products").num_rows == 3  # the read finished the commit first
    assert (root / "s" / "edges" / "relation=r" / "part-0.txt").read_text() == "v3"
    assert ws.manifest("s").config == {"v": 3}


def test_empty_outputs_are_committed_as_empty(tmp_path):
    ws = Workspace(tmp_path)
    with ws.run("kg", config={}) as run:
        run.write("products", pa.table({"product_id": ["P"], "title": ["t"], "source": ["t"], "source_file": ["f"],
                                        "source_row": [1]}))
        run.register_folder("edges", 0)  # nothing kept: no partition was written
    with ws.run("kg", config={"empty": True}) as run:
        run.ensure("products")
        run.register_folder("edges", 0)
    manifest = ws.manifest("kg")
    assert manifest.status == "complete" and manifest.outputs["edges"].rows == 0
    assert ws.read("kg", "products").num_rows == 0 and (tmp_path / "kg" / "edges").is_dir()
