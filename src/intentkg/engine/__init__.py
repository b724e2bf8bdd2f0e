"""Engines: where a stage's per-batch work runs (docs/ray.md).

A stage hands an engine a :class:`~intentkg.engine.source.Source` and a worker class (built once
per process or actor, then called batch in -> batch out); the engine gives back the output batches
in the order of a key column. ``local`` runs them in this process (the default, today's path);
``ray`` runs them as Ray Data ``map_batches`` tasks on a cluster (each worker process builds a model
once and keeps it), and its many writers write Parquet parts that the driver reads back in key
order - or, for a table handed over as a ``dataset``, that become the table itself.
Whole-table steps (behaviour selection, generic tails, dedup, KG merge, hierarchy) stay on the
driver in DuckDB either way.
"""

from __future__ import annotations

from typing import Any, Iterator, Protocol

from intentkg.engine.settings import EngineSettings, without_engine

__all__ = ["Engine", "EngineSettings", "open_engine", "without_engine"]


class Engine(Protocol):
    name: str
    settings: EngineSettings
    startup_seconds: float
    many_writers: bool  # True: map_batches takes a ``dataset`` its workers write the parts of

    def map_batches(self, source: Any, worker: type, args: tuple[Any, ...] = (), *, key: str, rows: int,
                    scratch: Any, name: str, model_step: bool = False, dataset: Any = None) -> Iterator[Any]:
        """Output tables of ``worker(*args)`` over ``source`` (an :class:`~intentkg.engine.source.Source`)
        in blocks of ``rows``, in the order of column ``key``; ``model_step``: one model per worker
        process; ``dataset`` (:class:`~intentkg.engine.dataset.Dataset`, engines with ``many_writers``):
        the workers also write each output block, conformed to that table, as its part. A worker may
        return ``(rows, summary)``: with a dataset the rows become the part and only the summaries
        are yielded; the local engine yields the pairs (the stage writes the rows itself)."""

    def pool(self, worker: type, args: tuple[Any, ...] = ()) -> Any:
        """Workers that stay up across calls: ``.map(tables)`` yields outputs in order; ``.close()``."""


def open_engine(settings: EngineSettings | str | None = None) -> Engine:
    settings = EngineSettings.model_validate(settings or {})
    if settings.name == "ray":
        from intentkg.engine.ray import RayEngine

        return RayEngine(settings)
    from intentkg.engine.local import LocalEngine

    return LocalEngine(settings)
