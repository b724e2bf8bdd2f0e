"""The Ray engine's many writers on the session's real local cluster, with a tiny worker (seconds):
a table written as a folder of parts by the workers reads back as the one table the local engine
writes; a worker process builds its worker once and keeps it for the next step with the same
arguments; and a driver SIGKILLed in the middle of committing such a folder leaves a whole version
readable - the old one before the journal is written, the new one after (never a mix)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers.kill import killed
from helpers.tiny_worker import scores_stage, shipped

from intentkg.engine import open_engine
from intentkg.engine.dataset import Dataset
from intentkg.engine.source import Source
from intentkg.errors import IntentkgError
from intentkg.workspace import Workspace


Scorer = shipped()
SOURCE = pa.table({"row": list(range(23))})


def _local(tmp_path, offset=0.5) -> pa.Table:
    outs = open_engine("local").map_batches(Source(table=SOURCE), Scorer, (offset,), key="row", rows=5,
                                            scratch=tmp_path, name="t")
    return pa.concat_tables(outs)


def test_workers_write_the_table_as_parts_that_read_back_as_the_local_table(ray_cluster, tmp_path):
    from intentkg.schemas import conform

    engine = open_engine({"name": "ray", "workers": 2})
    folder = tmp_path / "out" / "scores"
    outs = list(engine.map_batches(Source(table=SOURCE), Scorer, (0.5,), key="row", rows=5, scratch=tmp_path,
                                   name="t", model_step=True, dataset=Dataset(folder, "scores")))
    assert sorted(p.name for p in folder.iterdir()) == [f"part-{i:09d}.parquet" for i in range(5)]
    expected = conform(_local(tmp_path), "scores")
    assert pq.read_table(folder).equals(expected)  # the parts in name order: the rows in the local order
    import duckdb

    assert duckdb.sql(f"SELECT * FROM read_parquet('{folder}')").to_arrow_table().to_pylist() == expected.to_pylist()
    assert pa.concat_tables(outs).column("row").to_pylist() == list(range(23))  # the driver's copy, key order

    # the next step with the same worker and arguments finds it built in each process
    again = pa.concat_tables(engine.map_batches(Source(table=SOURCE), Scorer, (0.5,), key="row", rows=5,
                                                scratch=tmp_path, name="t2", model_step=True))
    builds: dict[int, set[str]] = {}
    both = pa.concat_tables(outs + [again])
    for pid, build in zip(both.column("pid").to_pylist(), both.column("build").to_pylist()):
        builds.setdefault(pid, set()).add(build)
    assert all(len(b) == 1 for b in builds.values()), builds  # built once per process, not per block or step
    other = pa.concat_tables(engine.map_batches(Source(table=SOURCE), Scorer, (0.25,), key="row", rows=5,
                                                scratch=tmp_path, name="t3", model_step=True))
    assert other.column("plausibility").to_pylist()[:2] == [0.25, 0.26]  # other arguments: another worker


def test_a_step_smaller_than_a_block_is_spread_over_the_workers(ray_cluster, tmp_path):
    """23 rows in blocks of 100 were one block, run by one worker while the other idled: now one
    block per worker, read back in key order as the one block was."""
    engine = open_engine({"name": "ray", "workers": 2})
    folder = tmp_path / "out" / "scores"
    outs = pa.concat_tables(engine.map_batches(Source(table=SOURCE), Scorer, (0.5,), key="row", rows=100,
                                               scratch=tmp_path, name="t", model_step=True,
                                               dataset=Dataset(folder, "scores")))
    assert sorted(p.name for p in folder.iterdir()) == ["part-000000000.parquet", "part-000000001.parquet"]
    assert [pq.read_metadata(p).num_rows for p in sorted(folder.iterdir())] == [12, 11]
    assert outs.column("row").to_pylist() == list(range(23))


@pytest.mark.parametrize("kill_at", ["s:commit:staged", "s:commit:moving"])
def test_a_driver_killed_while_committing_parts_leaves_one_whole_version(ray_cluster, tmp_path, kill_at):
    root = tmp_path / "ws"
    scores_stage(str(root), 0.5, 10)  # the old version: 10 rows in 3 parts, written by this process's workers
    tests = str(Path(__file__).resolve().parents[1])
    killed(f"""
        import sys, ray
        sys.path.insert(0, {tests!r})
        ray.init(address={ray_cluster!r}, log_to_driver=False, logging_level="WARNING")
        from helpers.tiny_worker import scores_stage
        scores_stage({str(root)!r}, 0.25, 6)""", kill_at, RAY_AUTH_MODE="disabled")  # the new one: 6 rows, 2 parts
    ws = Workspace(root)
    manifest = ws.committed("s")  # a reader finishes a decided commit first
    offset, rows = (0.5, 10) if kill_at == "s:commit:staged" else (0.25, 6)
    table = pq.read_table(ws.output_path("s", "scores"))
    assert table.column("plausibility").to_pylist() == [r / 100 + offset for r in range(rows)]  # whole, one version
    assert manifest.outputs["scores"].rows == rows and manifest.config["offset"] == offset
    assert ws.changed_outputs(manifest) == []  # the folder in place is the one its manifest hashed
    if kill_at == "s:commit:staged":  # undecided: the old version stands, and says its re-run was interrupted
        with pytest.raises(IntentkgError, match="its last run was interrupted"):
            ws.read("s", "scores")
    else:  # decided: the commit was finished by the reader, the new version is read as one table
        assert ws.read("s", "scores").equals(table)
