"""Run the API in one or more worker processes, under Granian (default, its RSGI interface:
:mod:`intentkg.serve.fast_path` answers the knowledge GETs on it and :mod:`intentkg.serve.rsgi`
hands the rest to FastAPI) or uvicorn (ASGI).

A server that forks workers cannot be handed an app object: each worker imports
:func:`app_from_environment` by name and builds its own app (its own store connections, miss queue
buffer and metrics) from the settings the parent put in ``INTENTKG_SERVE_SETTINGS``. The parent
opens nothing itself: an SQLite connection must not cross a fork.

Across workers: snapshots are immutable files (or Redis), the miss queue is SQLite in WAL mode,
written by each worker's flush in one ``BEGIN IMMEDIATE`` transaction behind a busy timeout (or
Redis, one script per miss), the client salt is one file, exposure part files carry each worker's
own run id, and metrics are summed from per-worker files (:mod:`intentkg.serve.worker_metrics`) in
a folder made fresh for the run. The per-client miss rate is kept per worker.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass

ENV = "INTENTKG_SERVE_SETTINGS"
SERVERS = ("granian", "uvicorn")
TARGET = "intentkg.serve.server:app_from_environment"


@dataclass(frozen=True)
class ServeSettings:
    workspace: str
    redis: str | None = None
    prefix: str = "intentkg"
    experiment_id: str | None = None
    knowledge_share: float = 0.5
    per_client_per_minute: int = 60
    metrics_dir: str | None = None
    response_cache_mb: float = 64.0


def build_app(settings: ServeSettings):
    """The app for one worker process."""
    from intentkg.serve.app import create_app
    from intentkg.serve.miss_admission import MissAdmission
    from intentkg.serve.runtime import client_salt, open_store

    store, _, queue = open_store(settings.workspace, settings.redis, settings.prefix)
    experiment = None
    if settings.experiment_id:
        from intentkg.serve.arms import Arms
        from intentkg.serve.experiment import ServingExperiment
        from intentkg.serve.exposure_log import ExposureLog, exposure_folder

        experiment = ServingExperiment(Arms(settings.experiment_id, settings.knowledge_share),
                                       ExposureLog(exposure_folder(settings.workspace)))
    admission = MissAdmission(settings.per_client_per_minute, salt=client_salt(settings.workspace))
    app = create_app(store, queue, experiment=experiment, admission=admission, metrics_dir=settings.metrics_dir,
                     response_cache_bytes=int(settings.response_cache_mb * 2**20))
    # the ~160,000 objects loaded so far (FastAPI, Presidio, spaCy) live as long as the worker: moved out
    # of the collector's reach, so that a full collection (triggered as the caches fill) walks only
    # what requests made, instead of pausing every request for tens of milliseconds
    gc.collect()
    gc.freeze()
    return app


def app_from_environment():
    """App factory for the server's workers (``intentkg.serve.server:app_from_environment``)."""
    raw = os.environ.get(ENV)
    if not raw:
        raise RuntimeError(f"{ENV} is not set: start the API with `intentkg serve run`")
    return build_app(ServeSettings(**json.loads(raw)))


def run(settings: ServeSettings, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
        server: str = "granian") -> None:
    """Serve until interrupted; ``workers`` processes share the port."""
    if server not in SERVERS:
        raise ValueError(f"server must be one of {', '.join(SERVERS)}, got {server!r}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    from intentkg.pii import prepare

    prepare()  # Presidio loads once here; workers forked from this process share it (Granian forks on Linux)
    metrics_dir = tempfile.mkdtemp(prefix="intentkg-serve-metrics-")  # this run's counts only
    os.environ[ENV] = json.dumps(asdict(settings) | {"metrics_dir": metrics_dir})
    try:
        if server == "granian":
            from granian import Granian
            from granian.constants import HTTPModes, Interfaces
            from granian.log import LogLevels

            Granian(TARGET, address=host, port=port, interface=Interfaces.RSGI, workers=workers, factory=True,
                    http=HTTPModes.http1, websockets=False, log_level=LogLevels.warning,
                    respawn_failed_workers=True).serve()
        else:
            import uvicorn

            uvicorn.run(TARGET, factory=True, host=host, port=port, workers=workers, log_level="warning")
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
