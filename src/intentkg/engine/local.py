"""The local engine: today's path. A worker object is built once in this process and called on each
batch in order, so results come back in the order of the source."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa

from intentkg.engine.settings import EngineSettings
from intentkg.engine.source import Source


class LocalEngine:
    name = "local"
    startup_seconds = 0.0
    many_writers = False  # one process: the stage writes each table as one file

    def __init__(self, settings: EngineSettings | None = None):
        self.settings = settings or EngineSettings()

    def map_batches(self, source: Source, worker: type, args: tuple[Any, ...] = (), *, key: str, rows: int,
                    scratch: Path, name: str, model_step: bool = False, dataset: None = None) -> Iterator[pa.Table]:
        fn = worker(*args)
        try:
            for batch in source.batches(rows):
                yield fn(batch)
        finally:
            close = getattr(fn, "close", None)
            if close is not None:
                close()

    def pool(self, worker: type, args: tuple[Any, ...] = ()) -> "LocalPool":
        return LocalPool(worker(*args))


class LocalPool:
    """One worker in this process; ``map`` calls it on each table in order."""

    def __init__(self, fn):
        self.fn = fn

    def map(self, tables: list[pa.Table]) -> Iterator[pa.Table]:
        for table in tables:
            yield self.fn(table)

    def close(self) -> None:
        pass
