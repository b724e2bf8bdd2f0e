"""Health of the server's background loop (flush misses, flush exposures).

One failing step is logged and counted, and the loop goes on; ``/health`` and ``/metrics`` show
each step's runs, errors, last error and the time of its last success.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

log = logging.getLogger("intentkg.serve")


@dataclass
class StepHealth:
    runs: int = 0
    errors: int = 0
    consecutive_errors: int = 0
    last_error: str | None = None
    last_error_at: float | None = None
    last_ok_at: float | None = None


class LoopHealth:
    def __init__(self) -> None:
        self._steps: dict[str, StepHealth] = {}
        self._lock = threading.Lock()

    def run(self, step: str, fn) -> bool:
        """Run one step; an exception is logged and recorded, never raised. True when it succeeded."""
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - the loop must survive any failure of one step
            log.exception("serve background step %r failed", step)
            with self._lock:
                s = self._steps.setdefault(step, StepHealth())
                s.runs += 1
                s.errors += 1
                s.consecutive_errors += 1
                s.last_error, s.last_error_at = f"{type(exc).__name__}: {exc}"[:500], time.time()
            return False
        with self._lock:
            s = self._steps.setdefault(step, StepHealth())
            s.runs += 1
            s.consecutive_errors = 0
            s.last_ok_at = time.time()
        return True

    @property
    def failing(self) -> list[str]:
        with self._lock:
            return [name for name, s in self._steps.items() if s.consecutive_errors]

    def snapshot(self) -> dict[str, dict]:
        with self._lock:
            return {name: dict(vars(s)) for name, s in self._steps.items()}
