"""A stage worker with the ``scores`` table's columns and no model (the Ray engine's tests, seconds).

Ray's worker processes do not have ``tests/`` on their path: :func:`shipped` makes this module
travel by value (``cloudpickle.register_pickle_by_value``)."""

from __future__ import annotations

import os
import sys
import uuid

import pyarrow as pa


class Scorer:
    """Each row says which process ran it (``pid``) and which build of the worker (``build``, unique)."""

    def __init__(self, offset: float):
        self.offset, self.build = offset, uuid.uuid4().hex

    def __call__(self, batch: pa.Table) -> pa.Table:
        rows = batch.column("row").to_pylist()
        return pa.table({"row": rows, "candidate_id": [f"c{r:03d}" for r in rows], "rule_flags": [[] for _ in rows],
                         "rule_details": [[] for _ in rows], "dup_count": [0] * len(rows),
                         "plausibility": [r / 100 + self.offset for r in rows],
                         "pid": [os.getpid()] * len(rows), "build": [self.build] * len(rows)})


def shipped() -> type[Scorer]:
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    return Scorer


def scores_stage(root: str, offset: float, rows: int) -> None:
    """Stage ``s`` of workspace ``root``: :class:`Scorer` on the Ray engine, its ``scores`` written by
    the workers as a folder of parts (blocks of 4 rows) and committed by the run."""
    from intentkg.engine import open_engine
    from intentkg.engine.dataset import Dataset
    from intentkg.engine.source import Source
    from intentkg.workspace import Workspace

    with Workspace(root).run("s", config={"offset": offset}) as run:
        engine = open_engine({"name": "ray", "workers": 2})
        dataset = Dataset(run.output("scores"), "scores")
        source = Source(table=pa.table({"row": list(range(rows))}))
        written = sum(t.num_rows for t in engine.map_batches(source, shipped(), (offset,), key="row", rows=4,
                                                             scratch=run.tmp / "scratch", name="t", dataset=dataset))
        run.register("scores", written)
