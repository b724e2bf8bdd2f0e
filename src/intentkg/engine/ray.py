"""The Ray engine: a stage's per-batch work as Ray Data ``map_batches``, its outputs as Parquet parts.

The driver puts the source into the object store in blocks of ``rows_per_block`` rows; each block
is one Ray task that finds its worker in the worker process (built there once per process and kept
for later blocks and steps: :mod:`intentkg.engine.hosted`) and writes the output as a Parquet part
into ``<scratch>/<name>.parts/`` (the many writers; on a multi-node cluster the workspace sits on a
shared filesystem). The driver then reads the parts back in the order of the key column (DuckDB),
so what the stage writes next does not depend on which worker finished first. With ``dataset``
the parts of a workspace table are written by the workers too, as the stage's output folder
(:class:`Dataset`), committed with the manifest by the run like any output.

Model steps (``model_step=True``: an LLM, the embedder, the critic, the completeness scorer) run as
at most ``workers`` concurrent tasks reserving ``cpus_per_worker`` / ``gpus_per_worker`` each. A
worker process that dies is replaced and its block retried; the request cache makes that retry
repeat no finished call (:mod:`intentkg.generate.request_cache`).

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
from intentkg.engine.dataset import Dataset
from intentkg.engine.hosted import Hosted
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


def write_part(block: pa.Table, hosted: Hosted, parts: str, dataset: Dataset | None) -> pa.Table:
    """One block: the stage's worker on it, its output written as a part (temporary name, then renamed:
    a block Ray retries after its worker process died replaces its part instead of adding a copy).
    A worker may return ``(rows, summary)``: the rows become the dataset's part, only the summary is
    kept for the driver to read (the candidates: a count per block). Only the part's name and row
    count travel back through Ray."""
    from intentkg import atomic_file
    from intentkg.parquet_parts import part_name
    from intentkg.workspace.commit import kill_once

    first = int(block.column("__block").to_pylist()[0]) if block.num_rows else -1
    out = hosted.get()(block.drop_columns(["__block"]))
    rows, back = out if isinstance(out, tuple) else (out, out)  # (the table's rows, what the driver reads)
    name = part_name(first)
    if dataset is not None:
        from intentkg.schemas import conform

        dataset.folder.mkdir(parents=True, exist_ok=True)
        with atomic_file.replacing(dataset.folder / name) as tmp:
            pq.write_table(conform(rows, dataset.table), tmp, compression="zstd")
            kill_once(dataset.table, "part")  # tests: a writer killed with its part not yet in place
    with atomic_file.replacing(Path(parts) / name) as tmp:
        pq.write_table(back, tmp)
    return pa.table({"part": [name], "rows": [back.num_rows]})


def spread(blocks: list[pa.Table], workers: int) -> list[pa.Table]:
    """At least ``workers`` blocks where there are rows enough: a step of one block would run on one
    worker while the others idle (at demo scale every step was one block)."""
    total = sum(b.num_rows for b in blocks)
    if len(blocks) >= workers or total < 2:
        return blocks
    per = -(-total // min(workers, total))
    table = pa.concat_tables(blocks).drop_columns(["__block"]).combine_chunks()
    return Source(table=table).blocks(per)


class RayEngine:
    name = "ray"
    many_writers = True  # a stage may hand map_batches a Dataset: the workers write its parts

    def __init__(self, settings: EngineSettings):
        self.settings = settings
        self.startup_seconds = connect(settings)
        _quiet_data()

    def _options(self, model_step: bool) -> dict[str, Any]:
        """What a task reserves (a task whose worker process dies is retried: Ray's default, 3 times)."""
        s = self.settings
        # Ray Data retries a task forever by default: a block whose worker always dies would never end
        options: dict[str, Any] = {"num_cpus": s.cpus_per_worker if model_step else 1, "max_retries": 3}
        if model_step and s.gpus_per_worker:
            options["num_gpus"] = s.gpus_per_worker
        return options

    def map_batches(self, source: Source, worker: type, args: tuple[Any, ...] = (), *, key: str, rows: int,
                    scratch: Path, name: str, model_step: bool = False,
                    dataset: Dataset | None = None) -> Iterator[pa.Table]:
        import ray.data

        rows = max(1, min(rows, self.settings.rows_per_block))
        blocks = spread(source.blocks(rows), self.settings.workers)
        if not blocks:
            return
        parts = scratch / f"{name}.parts"
        if parts.exists():
            shutil.rmtree(parts)
        parts.mkdir(parents=True)
        # from the object store, not read_parquet: Ray's file listing reserves a CPU, which model
        # steps holding every CPU of a small cluster would never leave it (a deadlock)
        written = ray.data.from_arrow(blocks).map_batches(
            write_part, fn_args=(Hosted(worker, tuple(args), keep=model_step), str(parts), dataset), batch_format="pyarrow",
            batch_size=None, compute=ray.data.TaskPoolStrategy(size=self.settings.workers),
            **self._options(model_step))
        written.take_all()
        if dataset is not None:
            from intentkg.parquet_parts import keep_parts

            keep_parts(dataset.folder)  # a killed writer's temporary file is no part of the table
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
        return RayPool(self, worker, args)


def _run_table(hosted: Hosted, table: pa.Table) -> pa.Table:
    return hosted.get()(table)


class RayPool:
    """Workers that stay up across calls, for callers that encode chunk by chunk (the evaluation's
    encoders behind the embedding cache): ``map`` runs each table as a task on the cluster's worker
    processes (each builds the worker once: :mod:`intentkg.engine.hosted`) and yields the results
    in input order. A worker process that dies is replaced and its table retried."""

    def __init__(self, engine: RayEngine, worker: type, args: tuple[Any, ...]):
        import ray

        self.hosted, self.workers = Hosted(worker, tuple(args)), engine.settings.workers
        self.remote = ray.remote(**engine._options(model_step=True))(_run_table)

    def map(self, tables: list[pa.Table]) -> Iterator[pa.Table]:
        """At most ``workers`` tables in flight (each worker process loads the model once)."""
        from collections import deque

        import ray

        pending: deque = deque()
        for table in tables:
            pending.append(self.remote.remote(self.hosted, table))
            if len(pending) >= self.workers:
                yield ray.get(pending.popleft())
        while pending:
            yield ray.get(pending.popleft())

    def close(self) -> None:
        pass
