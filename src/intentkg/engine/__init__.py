"""Engines: where a stage's per-batch work runs (docs/ray.md).

A stage hands an engine a :class:`~intentkg.engine.source.Source` and a worker class (built once
per process or actor, then called batch in -> batch out); the engine gives back the output batches
in the order of a key column. ``local`` runs them in this process (the default, today's path);
``ray`` runs them as Ray Data ``map_batches`` on a cluster, model steps on an actor pool (one model
per actor), and its many writers write Parquet parts that the driver reads back in key order.
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

    def map_batches(self, source: Any, worker: type, args: tuple[Any, ...] = (), *, key: str, rows: int,
                    scratch: Any, name: str, model_step: bool = False) -> Iterator[Any]:
        """Output tables of ``worker(*args)`` over ``source`` (an :class:`~intentkg.engine.source.Source`)
        in blocks of ``rows``, in the order of column ``key``; ``model_step``: one model per actor."""

    def pool(self, worker: type, args: tuple[Any, ...] = ()) -> Any:
        """Workers that stay up across calls: ``.map(tables)`` yields outputs in order; ``.close()``."""


def open_engine(settings: EngineSettings | str | None = None) -> Engine:
    settings = EngineSettings.model_validate(settings or {})
    if settings.name == "ray":
        from intentkg.engine.ray import RayEngine

        return RayEngine(settings)
    from intentkg.engine.local import LocalEngine

    return LocalEngine(settings)
