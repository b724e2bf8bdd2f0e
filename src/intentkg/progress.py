"""Progress bars with rate and ETA for anything that takes more than a few seconds."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")
console = Console(stderr=True)


def _disabled() -> bool:
    return os.environ.get("INTENTKG_NO_PROGRESS") == "1"


def make_progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=_disabled(),
        transient=not sys.stderr.isatty(),
    )


class Bar:
    """A handle to advance one progress task and show a rate such as '12.3 calls/s'."""

    def __init__(self, progress: Progress, task_id, unit: str):
        self._progress, self._task, self._unit = progress, task_id, unit

    def advance(self, n: float = 1) -> None:
        self._progress.advance(self._task, n)
        task = self._progress.tasks[self._task]
        speed = task.speed
        rate = f"{speed:,.1f} {self._unit}/s" if speed else ""
        self._progress.update(self._task, rate=rate)

    def set_total(self, total: float | None) -> None:
        self._progress.update(self._task, total=total)


@contextmanager
def bar(description: str, total: float | None, unit: str = "rows") -> Iterator[Bar]:
    progress = make_progress()
    with progress:
        task_id = progress.add_task(description, total=total, rate="")
        yield Bar(progress, task_id, unit)


def track(items: Iterable[T], description: str, total: float | None = None, unit: str = "rows") -> Iterator[T]:
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with bar(description, total, unit) as b:
        for item in items:
            yield item
            b.advance()
