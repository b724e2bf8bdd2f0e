"""The Ray engine: a stage's per-batch work as Ray Data ``map_batches``, its outputs as Parquet parts.

The driver puts the source into the object store in blocks of ``rows_per_block`` rows; the
worker class runs on each block on an actor, and every actor writes its outputs as Parquet parts
into ``<scratch>/<name>.parts/`` (the many writers; on a multi-node cluster the workspace sits on
a shared filesystem). The driver then reads the parts back in the order of the key column
(DuckDB), so what the stage writes next does not depend on which worker finished first.

Model steps (``model_step=True``: an LLM, the embedder, the critic, the completeness scorer) run
on an actor pool of ``workers`` actors reserving ``cpus_per_worker`` / ``gpus_per_worker`` each,
so each actor loads its model once. Ray Data restarts an actor that dies and retries its block;
the request cache makes that retry repeat no finished call (:mod:`intentkg.generate.request_cache`).

The cluster: ``address`` (or ``RAY_ADDRESS``, which ``ray job submit`` sets), else a new local
cluster of this machine's CPUs; an already initialised Ray (a test session's) is used as it is.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from intentkg.duck import quote_path
from intentkg.engine.settings import EngineSettings
from intentkg.engine.source import Source
from intentkg.errors import ConfigError


def connect(settings: EngineSettings) -> float:
    """Join (or start) the cluster; returns the seconds it took (0 when Ray was already up)."""
    try:
        import ray
    except ImportError as exc:
        raise ConfigError("--engine ray needs Ray: pip install 'intentkg[ray]'") from exc
    if ray.is_initialized():
        return 0.0
    started = time.perf_counter()
    address = settings.address or os.environ.get("RAY_ADDRESS") or None
    ray.init(address=address, include_dashboard=False, logging_level="WARNING", log_to_driver=False,
             ignore_reinit_error=True)
    return time.perf_counter() - started


def _quiet_data() -> None:
    import logging

    import ray.data

    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)


class PartWriter:
    """Runs a stage's worker on a block and writes the output as one Parquet part (the many writers).

    A part is named after its block (the first input file's row range), written to a temporary name
    and renamed, so a block Ray retries after its actor died replaces its part instead of adding a
    second copy. Only the part's name and row count travel back to the driver."""

    def __init__(self, worker: type, args: tuple[Any, ...], parts: str):
        self.worker, self.parts = worker(*args), Path(parts)

    def __call__(self, block: pa.Table) -> pa.Table:
        from intentkg import atomic_file

        first = int(block.column("__block").to_pylist()[0]) if block.num_rows else -1
        out = self.worker(block.drop_columns(["__block"]))
        target = self.parts / f"part-{first:09d}.parquet"
        with atomic_file.replacing(target) as tmp:
            pq.write_table(out, tmp)
        return pa.table({"part": [target.name], "rows": [out.num_rows]})


class RayEngine:
    name = "ray"

    def __init__(self, settings: EngineSettings):
        self.settings = settings
        self.startup_seconds = connect(settings)
        _quiet_data()

    def map_batches(self, source: Source, worker: type, args: tuple[Any, ...] = (), *, key: str, rows: int,
                    scratch: Path, name: str, model_step: bool = False) -> Iterator[pa.Table]:
        import ray.data

        rows = max(1, min(rows, self.settings.rows_per_block))
        blocks = source.blocks(rows)
        if not blocks:
            return
        s = self.settings
        parts = scratch / f"{name}.parts"
        if parts.exists():
            shutil.rmtree(parts)
        parts.mkdir(parents=True)
        size = s.workers if model_step else (1, s.workers)
        options: dict[str, Any] = {"num_cpus": s.cpus_per_worker if model_step else 1}
        if model_step and s.gpus_per_worker:
            options["num_gpus"] = s.gpus_per_worker
        compute = ray.data.ActorPoolStrategy(size=size) if isinstance(size, int) else \
            ray.data.ActorPoolStrategy(min_size=size[0], max_size=size[1])
        # from the object store, not read_parquet: Ray's file listing reserves a CPU, which model
        # actors holding every CPU of a small cluster would never leave it (a deadlock)
        dataset = ray.data.from_arrow(blocks)
        written = dataset.map_batches(PartWriter, fn_constructor_args=(worker, tuple(args), str(parts)),
                                      batch_format="pyarrow", batch_size=None, compute=compute, **options)
        written.take_all()
        files = sorted(parts.glob("part-*.parquet"))
        if not files:
            return
        import duckdb

        from intentkg.duck import reader

        con = duckdb.connect()
        try:
            listed = ", ".join(quote_path(f) for f in files)
            for batch in reader(con, f"SELECT * FROM read_parquet([{listed}]) ORDER BY {key}", rows):
                yield pa.Table.from_batches([batch])
        finally:
            con.close()

    def pool(self, worker: type, args: tuple[Any, ...] = ()) -> "RayPool":
        return RayPool(self.settings, worker, args)


class _Hosted:
    """A worker inside a Ray actor (an actor exposes named methods, not ``__call__``)."""

    def __init__(self, worker: type, args: tuple[Any, ...]):
        self.fn = worker(*args)

    def run(self, table: pa.Table) -> pa.Table:
        return self.fn(table)


class RayPool:
    """``workers`` long-lived actors holding one model each, for callers that encode chunk by chunk
    (the evaluation's encoders behind the embedding cache): ``map`` spreads tables over the actors
    and yields the results in input order. A dead actor is restarted and its table retried."""

    def __init__(self, settings: EngineSettings, worker: type, args: tuple[Any, ...]):
        import ray
        from ray.util import ActorPool

        options: dict[str, Any] = {"num_cpus": settings.cpus_per_worker, "max_restarts": -1, "max_task_retries": -1}
        if settings.gpus_per_worker:
            options["num_gpus"] = settings.gpus_per_worker
        hosted = ray.remote(**options)(_Hosted)
        self.actors = [hosted.remote(worker, tuple(args)) for _ in range(settings.workers)]
        self.pool = ActorPool(self.actors)

    def map(self, tables: list[pa.Table]) -> Iterator[pa.Table]:
        return self.pool.map(lambda actor, table: actor.run.remote(table), list(tables))

    def close(self) -> None:
        import ray

        for actor in self.actors:
            ray.kill(actor)
