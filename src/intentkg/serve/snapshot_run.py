"""A new serving snapshot is a run of the workspace's ``serve`` stage, like every other output.

The snapshot itself is live state, swapped in by its store (``CURRENT`` for SQLite, a pointer key
for Redis) so the running server never sees half of one; the run around it gives it what every
stage has: one at a time (the stage lock: two refreshes cannot race on the miss queue), declared
inputs (a KG whose last build failed is refused), and a manifest saying which snapshot was made
from which KG, with how many keys — shown by ``intentkg status``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from intentkg.workspace import StageRun, Workspace

STAGE = "serve"


@contextmanager
def snapshot_run(workspace: str | Path, job: str, config: dict[str, Any],
                 extra_inputs: list[str | Path] = ()) -> Iterator[StageRun]:
    """``with snapshot_run(ws, "refresh", {...}) as run: ...; run.extra["snapshot"] = version``."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    inputs: list[str | Path] = [s for s in ("kg", "ingest") if ws.manifest(s) is not None]
    inputs += list(extra_inputs)
    with ws.run(STAGE, config={"job": job, **config}, inputs=inputs, force=True) as run:
        yield run


def on_demand_inputs(workspace: str | Path, config: Path | None, model: str | None = None) -> list[str | Path]:
    """What on-demand knowledge reads besides the KG: the generate and filter settings, a config file,
    a model file given instead of the configured generator (hashed into the manifest)."""
    ws = Workspace(workspace)
    found: list[str | Path] = [s for s in ("generate", "filter") if ws.manifest(s) is not None]
    model_file = [Path(model)] if model and Path(model).is_file() else []
    return found + ([config] if config is not None else []) + model_file
