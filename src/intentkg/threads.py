"""Thread counts for torch work: how many suit this machine now, and a block that sets them and puts
the previous count back (library code must not change the process's setting for good)."""

from __future__ import annotations

import os
from contextlib import contextmanager


def auto_threads() -> int:
    """Threads for torch: all cores on an idle machine, one when the load already fills them (torch's
    OpenMP threads spin while they wait for a core: one thread is then ~3x faster than two)."""
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover - not on Linux/macOS
        load = 0.0
    return 1 if load >= cores - 0.5 else max(1, min(cores, int(cores - load)))


@contextmanager
def torch_threads(threads: int | None):
    """Run a block with ``threads`` torch threads (None: :func:`auto_threads`), restoring them after."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads or auto_threads())
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
