"""A workspace table that an engine's workers write themselves, as a folder of parts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Dataset:
    """``folder``: the stage's output folder for ``table`` (``run.output(table)``, inside the run's
    ``.incoming``, so it is committed with the manifest through the journal like any output). Each
    block's output is conformed to the table's schema and written as one part named after its block
    (:func:`intentkg.parquet_parts.part_name`): the folder read in name order holds the rows in block
    order, the order a one-file writer would have written them."""

    folder: Path
    table: str
