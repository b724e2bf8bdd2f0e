"""Metrics across worker processes: each worker writes its counts to ``<folder>/worker-<pid>.json``
(atomically, on every background tick and at shutdown) and ``/metrics``, ``/metrics/prometheus`` and
``/health`` sum every worker's file with the answering worker's live counts.

The server's parent process makes the folder fresh for each run (``intentkg serve run``), so the
sums cover that run. A worker that died and was replaced keeps its file: its requests still count,
as in Prometheus' multiprocess mode. Another worker's numbers are at most one tick old.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from intentkg import atomic_file
from intentkg.serve.metrics import Metrics

ENV = "INTENTKG_SERVE_METRICS_DIR"


def _merge_steps(steps: list[dict[str, dict]]) -> dict[str, dict]:
    """Per step: runs and errors summed, the worst run of consecutive errors, the latest error and success."""
    out: dict[str, dict] = {}
    for worker in steps:
        for name, s in worker.items():
            m = out.setdefault(name, {"runs": 0, "errors": 0, "consecutive_errors": 0, "last_error": None,
                                      "last_error_at": None, "last_ok_at": None})
            m["runs"] += s["runs"]
            m["errors"] += s["errors"]
            m["consecutive_errors"] = max(m["consecutive_errors"], s["consecutive_errors"])
            if s["last_error_at"] is not None and (m["last_error_at"] or 0) <= s["last_error_at"]:
                m["last_error"], m["last_error_at"] = s["last_error"], s["last_error_at"]
            if s["last_ok_at"] is not None:
                m["last_ok_at"] = max(m["last_ok_at"] or 0, s["last_ok_at"])
    return out


def merge_background(workers: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum the background-loop health of several workers (each as the API's ``background`` field)."""
    refused: dict[str, int] = {}
    for w in workers:
        for reason, n in w["misses_refused"].items():
            refused[reason] = refused.get(reason, 0) + n
    steps = _merge_steps([w["steps"] for w in workers])
    return {"steps": steps, "failing": [name for name, s in steps.items() if s["consecutive_errors"]],
            "misses_held_in_memory": sum(w["misses_held_in_memory"] for w in workers),
            "misses_refused": refused, "workers": len(workers)}


class WorkerFiles:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.pid = os.getpid()

    @property
    def path(self) -> Path:
        return self.folder / f"worker-{self.pid}.json"

    def write(self, metrics: Metrics, background: dict[str, Any]) -> None:
        atomic_file.write_json(self.path, {"pid": self.pid, "metrics": metrics.state(), "background": background})

    def others(self) -> list[dict[str, Any]]:
        found = []
        for path in sorted(self.folder.glob("worker-*.json")):
            if path != self.path:
                try:
                    found.append(json.loads(path.read_text()))
                except (OSError, ValueError):  # replaced between glob and read: the next read has it
                    continue
        return found

    def merged(self, metrics: Metrics, background: dict[str, Any]) -> tuple[Metrics, dict[str, Any]]:
        """Every worker's counts summed, this worker's live ones included."""
        others = self.others()
        return (Metrics.merged([metrics.state()] + [o["metrics"] for o in others]),
                merge_background([background] + [o["background"] for o in others]))
