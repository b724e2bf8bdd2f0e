"""The HTTP API (FastAPI). No model on the request path: a hit is a store GET; a miss is answered at
once with nothing (``outcome: miss``) and queued for the refresh job, which answers it with the
evaluation's lookup (exact, else embedding-nearest KG heads, else on-demand knowledge). Queries and
products the logs and catalogue know have their nearest-neighbour fallback precomputed (tier 1),
so only keys never seen before miss.
Handlers are async and call the store directly: a GET is microseconds (an immutable SQLite file,
or one loopback Redis round trip), cheaper than a hop to the thread pool. ``create_app`` returns the
FastAPI app behind a raw fast path (:mod:`intentkg.serve.fast_path`, RSGI or ASGI) that answers the
knowledge GETs without the framework; both call :mod:`intentkg.serve.answers`.

    GET /v1/knowledge/query?q=winter+camping+gear
    GET /v1/knowledge/product/{product_id}
    GET /v1/knowledge/pair?q=...&product_id=...     (the text the ESCI evaluation injects;
                                                     &leave_out_query=true: with its leave-own-out)
    (each takes an optional unit_id / X-Intentkg-Unit header: with an experiment configured, the
     unit's arm is returned and logged, and the control arm gets no knowledge; see serve/arms.py)
    GET /health      GET /metrics      GET /metrics/prometheus      GET /docs, /redoc (OpenAPI, offline)

Each response reads one pinned snapshot (``store.view()``), so a /pair answer never mixes two.
Misses are queued only when :mod:`intentkg.serve.miss_admission` admits the key and the client's
rate. The background loop (flush misses, flush exposures) survives failures; its health
is in /health and /metrics. Every 4xx/5xx is counted by endpoint and status. With ``metrics_dir``
(several worker processes) each worker writes its counts there and the metrics pages sum them
(:mod:`intentkg.serve.worker_metrics`).
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Header, Query, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from intentkg import __version__
from intentkg.pii import prepare as prepare_scrubber
from intentkg.serve.answers import KnowledgeAnswers, PairText
from intentkg.serve.experiment import UNIT_HEADER, ServingExperiment
from intentkg.serve.fast_path import FastPath
from intentkg.serve.health import LoopHealth, log
from intentkg.serve.metrics import Metrics
from intentkg.serve.miss_admission import MissAdmission
from intentkg.serve.store import KnowledgeStore, MissQueue
from intentkg.serve.worker_metrics import WorkerFiles

RESPONSE_CACHE_BYTES = 64 * 2**20  # recent hits' response bytes kept per worker (serve/response_cache.py)
UNIT_PARAM = Query(None, description="A user or session id; with an experiment configured it picks the arm.")
UNIT_HEADER_PARAM = Header(None, alias=UNIT_HEADER)


def default_pair_text(query_value: dict | None, product_value: dict | None) -> str:
    from intentkg.serve.pair_text import pair_text

    return pair_text(query_value, product_value)


def create_app(store: KnowledgeStore, queue: MissQueue, *, pair_text: PairText = default_pair_text,
               flush_every: float = 1.0,
               experiment: ServingExperiment | None = None,
               admission: MissAdmission | None = None,
               metrics_dir: str | Path | None = None,
               response_cache_bytes: int = RESPONSE_CACHE_BYTES) -> FastPath:
    prepare_scrubber()  # load Presidio now, not inside the first request that holds a digit
    metrics = Metrics()
    health = LoopHealth()
    admission = admission or MissAdmission()
    answers = KnowledgeAnswers(store, queue, metrics, admission, pair_text, experiment)
    workers = WorkerFiles(metrics_dir) if metrics_dir is not None else None

    def background_health() -> dict[str, Any]:
        return {"steps": health.snapshot(), "failing": health.failing, "misses_held_in_memory": queue.held(),
                "misses_refused": {**admission.refused, "queue_full": queue.refused_full}}

    def all_workers() -> tuple[Metrics, dict[str, Any]]:
        """This process's counts, or every worker's summed when there are several."""
        if workers is None:
            return metrics, background_health()
        return workers.merged(metrics, background_health())

    def write_worker_file() -> None:
        workers.write(metrics, background_health())

    @asynccontextmanager
    async def lifespan(app):
        async def background() -> None:
            while True:  # one failing step is logged and counted; the loop never stops
                await asyncio.sleep(flush_every)
                await asyncio.to_thread(health.run, "flush", queue.flush)
                if experiment is not None:
                    await asyncio.to_thread(health.run, "exposure_log", experiment.log.flush)
                if workers is not None:
                    await asyncio.to_thread(health.run, "worker_metrics", write_worker_file)

        if workers is not None:
            write_worker_file()  # this worker counts from the start
        task = asyncio.create_task(background())
        try:
            yield
        finally:
            task.cancel()
            health.run("flush", queue.flush)
            if experiment is not None:
                health.run("exposure_log", experiment.log.flush)
            if workers is not None:
                health.run("worker_metrics", write_worker_file)

    app = FastAPIOffline(title="intentkg knowledge API", version=__version__, lifespan=lifespan,
                         description="Purchase-intention knowledge for queries, products and (query, product) "
                                     "pairs, served from a precomputed cache. Misses are queued for the daily "
                                     "refresh.")
    app.state.metrics, app.state.health, app.state.admission = metrics, health, admission

    def endpoint_of(request: Request) -> str:
        route = request.scope.get("route")
        return getattr(route, "name", None) or "unmatched"

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException):
        metrics.error(endpoint_of(request), exc.status_code)
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_invalid_request(request: Request, exc: RequestValidationError):
        metrics.error(endpoint_of(request), 422)
        return await request_validation_exception_handler(request, exc)

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception):
        log.exception("request %s failed", request.url.path)
        metrics.error(endpoint_of(request), 500)
        return JSONResponse({"detail": "internal error (logged)"}, status_code=500)

    def host_of(request: Request) -> str | None:
        return request.client.host if request.client else None

    @app.get("/v1/knowledge/query", summary="Intentions for a search query", name="query")
    async def knowledge_for_query(request: Request,
                                  q: str = Query(..., description="The search query as typed; PII is scrubbed."),
                                  unit_id: str | None = UNIT_PARAM, unit_header: str | None = UNIT_HEADER_PARAM):
        return Response(content=answers.query(q, unit_id, unit_header, host_of(request)),
                        media_type="application/json")

    @app.get("/v1/knowledge/product/{product_id}", summary="Intentions for a product", name="product")
    async def knowledge_for_product(request: Request, product_id: str, unit_id: str | None = UNIT_PARAM,
                                    unit_header: str | None = UNIT_HEADER_PARAM):
        return Response(content=answers.product(product_id, unit_id, unit_header, host_of(request)),
                        media_type="application/json")

    @app.get("/v1/knowledge/pair", summary="Knowledge text for a (query, product) pair", name="pair")
    async def knowledge_for_pair(request: Request, q: str = Query(...), product_id: str = Query(...),
                                 leave_out_query: bool = Query(
                                     False, description="The evaluation's leave-own-out: the knowledge as if q had "
                                                        "never been logged (needs `serve precompute "
                                                        "--leave-out-query`; `left_out` says whether it was)."),
                                 unit_id: str | None = UNIT_PARAM, unit_header: str | None = UNIT_HEADER_PARAM):
        return answers.pair(q, product_id, unit_id, unit_header, host_of(request), leave_out_query)

    @app.get("/health", summary="Liveness, the live snapshot version and the background loop's health")
    async def health_page():
        version = store.version()
        background = all_workers()[1]
        problems = ([store.problem] if store.problem else []) + [
            f"background step {name!r} is failing: {background['steps'][name]['last_error']}"
            for name in background["failing"]]
        status = "empty" if not version else ("degraded" if problems else "ok")
        return {"status": status, "version": version, "problems": problems, "background": background}

    @app.get("/metrics", summary="Hit rate, latency histogram, errors by status, background loop (JSON)")
    async def metrics_json():
        total, background = all_workers()
        return {**total.snapshot(), "background": background}

    @app.get("/metrics/prometheus", response_class=PlainTextResponse, summary="Metrics in Prometheus text format")
    async def metrics_prometheus():
        total, background = all_workers()
        return total.prometheus(background)

    return FastPath(app, answers, response_cache_bytes)
