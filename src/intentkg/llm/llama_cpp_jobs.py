"""The order batched decoders take their jobs in, and how several decoders split them.

Jobs are sorted by their prompt parts (so jobs that share a few-shot block, and the samples of
one prompt, are neighbours) and cut into one contiguous run per worker. A worker takes jobs from
the front of its own run, so the prefixes it evaluates are the ones its slots hold; when its run is
empty it takes from the back of the longest other run.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Sequence


class JobQueue:
    """Indexes of ``jobs`` in prompt order, one run per worker (see the module docstring)."""

    def __init__(self, jobs: Sequence, workers: int):
        order = sorted(range(len(jobs)), key=lambda i: [tuple(p) for p in jobs[i].parts])
        size = -(-len(order) // max(1, workers)) if order else 0
        self.runs = [deque(order[w * size:(w + 1) * size]) for w in range(max(1, workers))]
        self.jobs = jobs
        self.stopped = False
        self._lock = threading.Lock()

    def take(self, worker: int) -> int | None:
        with self._lock:
            if self.stopped:
                return None
            if self.runs[worker]:
                return self.runs[worker].popleft()
            longest = max(self.runs, key=len)
            return longest.pop() if longest else None

    def take_same(self, worker: int, parts: list[list[int]]) -> int | None:
        """The next job of this worker's run if its prompt is ``parts`` exactly (another sample of it)."""
        with self._lock:
            run = self.runs[worker]
            if not self.stopped and run and self.jobs[run[0]].parts == parts:
                return run.popleft()
            return None

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
