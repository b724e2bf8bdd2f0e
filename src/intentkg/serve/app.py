"""The HTTP API (FastAPI). No model on the request path: a hit is a store GET; a miss is answered at
once with nothing (``outcome: miss``) and queued for the refresh job, which answers it with the
evaluation's lookup (exact, else embedding-nearest KG heads, else on-demand knowledge). Queries and
products the logs and catalogue know have their nearest-neighbour fallback precomputed (tier 1),
so only keys never seen before miss.
Handlers are async and call the store directly: a GET is microseconds (an immutable SQLite file,
or one loopback Redis round trip), cheaper than a hop to the thread pool.

    GET /v1/knowledge/query?q=winter+camping+gear
    GET /v1/knowledge/product/{product_id}
    GET /v1/knowledge/pair?q=...&product_id=...     (the text the ESCI evaluation injects)
    (each takes an optional unit_id / X-Intentkg-Unit header: with an experiment configured, the
     unit's arm is returned and logged, and the control arm gets no knowledge; see serve/arms.py)
    GET /health      GET /metrics      GET /metrics/prometheus      GET /docs, /redoc (OpenAPI, offline)

Each response reads one pinned snapshot (``store.view()``), so a /pair answer never mixes two.
Misses are queued only when :mod:`intentkg.serve.miss_admission` admits the key and the client's
rate. The background loop (flush misses, flush exposures) survives failures; its health
is in /health and /metrics. Every 4xx/5xx is counted by endpoint and status.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Header, HTTPException, Query, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from intentkg import __version__
from intentkg.pii import prepare as prepare_scrubber
from intentkg.serve.health import LoopHealth, log
from intentkg.serve.keys import MAX_QUERY_CHARS, decode, product_key, query_cache_key
from intentkg.serve.experiment import UNIT_HEADER, ServingExperiment
from intentkg.serve.metrics import Metrics
from intentkg.serve.miss_admission import MissAdmission
from intentkg.serve.store import KnowledgeStore, MissQueue, SnapshotReader

PRODUCT_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
PairText = Callable[[dict | None, dict | None], str]
UNIT_PARAM = Query(None, description="A user or session id; with an experiment configured it picks the arm.")
UNIT_HEADER_PARAM = Header(None, alias=UNIT_HEADER)


def default_pair_text(query_value: dict | None, product_value: dict | None) -> str:
    from intentkg.serve.pair_text import pair_text

    return pair_text(query_value, product_value)


def _query_param(q: str) -> str:
    if not q.strip():
        raise HTTPException(status_code=400, detail="q is empty: pass the search query, e.g. ?q=winter+camping")
    if len(q) > MAX_QUERY_CHARS:
        raise HTTPException(status_code=400, detail=f"q is longer than {MAX_QUERY_CHARS} characters")
    return q


def _product_param(product_id: str) -> str:
    if not PRODUCT_ID.fullmatch(product_id):  # not match(): "$" would let a trailing newline through
        raise HTTPException(status_code=400,
                            detail="product_id must be 1-64 characters of letters, digits, '.', '_', ':' or '-'")
    return product_id


def create_app(store: KnowledgeStore, queue: MissQueue, *, pair_text: PairText = default_pair_text,
               flush_every: float = 1.0,
               experiment: ServingExperiment | None = None,
               admission: MissAdmission | None = None) -> FastAPIOffline:
    prepare_scrubber()  # load Presidio now, not inside the first request that holds a digit
    metrics = Metrics()
    health = LoopHealth()
    admission = admission or MissAdmission()

    @asynccontextmanager
    async def lifespan(app):
        async def background() -> None:
            while True:  # one failing step is logged and counted; the loop never stops
                await asyncio.sleep(flush_every)
                await asyncio.to_thread(health.run, "flush", queue.flush)
                if experiment is not None:
                    await asyncio.to_thread(health.run, "exposure_log", experiment.log.flush)

        task = asyncio.create_task(background())
        try:
            yield
        finally:
            task.cancel()
            health.run("flush", queue.flush)
            if experiment is not None:
                health.run("exposure_log", experiment.log.flush)

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

    def lookup(view: SnapshotReader, key: str, client: str) -> tuple[str | None, str, dict[str, Any]]:
        """(cached JSON text or None, hit|miss, extra fields), from one snapshot; a miss is queued
        when admitted (its nearest fallback, if any, is the refresh job's to compute)."""
        value = view.get(key)
        if value is not None:
            return value, "hit", {}
        queued = admission.admit(key, client)
        if queued:
            queue.add(key, client)
        return None, "miss", {"queued": queued}

    def arm_of(unit_id: str | None, header: str | None):
        return experiment.assign(unit_id or header) if experiment is not None else None

    def client_of(request: Request) -> str:
        return admission.client_id(request.client.host if request.client else None)

    def answer(request: Request, endpoint: str, key: str, started: float, unit=None) -> Response:
        view = store.view()
        value, outcome, extra = lookup(view, key, client_of(request))
        head = {"key": key, "outcome": outcome, "queued": False, "version": view.version, **extra}
        if experiment is not None:
            head["arm"] = unit[1].arm if unit is not None else None
        if unit is not None:
            experiment.record(unit, endpoint, key, outcome)
            if not unit[1].knowledge:  # control: looked up and logged, but not shown
                value, head["outcome"] = None, "withheld"
        # the cached entry is already JSON: splice it in instead of decoding and re-encoding it
        body = json.dumps(head, ensure_ascii=False)[:-1] + ',"entry":' + (value or "null") + "}"
        metrics.observe(endpoint, (time.perf_counter() - started) * 1000, outcome)
        return Response(content=body, media_type="application/json")

    @app.get("/v1/knowledge/query", summary="Intentions for a search query", name="query")
    async def knowledge_for_query(request: Request,
                                  q: str = Query(..., description="The search query as typed; PII is scrubbed."),
                                  unit_id: str | None = UNIT_PARAM, unit_header: str | None = UNIT_HEADER_PARAM):
        started = time.perf_counter()
        q, unit = _query_param(q), arm_of(unit_id, unit_header)
        return answer(request, "query", query_cache_key(q), started, unit)

    @app.get("/v1/knowledge/product/{product_id}", summary="Intentions for a product", name="product")
    async def knowledge_for_product(request: Request, product_id: str, unit_id: str | None = UNIT_PARAM,
                                    unit_header: str | None = UNIT_HEADER_PARAM):
        started = time.perf_counter()
        product_id, unit = _product_param(product_id), arm_of(unit_id, unit_header)
        return answer(request, "product", product_key(product_id), started, unit)

    @app.get("/v1/knowledge/pair", summary="Knowledge text for a (query, product) pair", name="pair")
    async def knowledge_for_pair(request: Request, q: str = Query(...), product_id: str = Query(...),
                                 unit_id: str | None = UNIT_PARAM, unit_header: str | None = UNIT_HEADER_PARAM):
        started = time.perf_counter()
        q, product_id, unit = _query_param(q), _product_param(product_id), arm_of(unit_id, unit_header)
        view, client = store.view(), client_of(request)  # both halves from the same snapshot
        query_value, query_outcome, extra = lookup(view, query_cache_key(q), client)
        product_value, product_outcome, _ = lookup(view, product_key(product_id), client)
        extra.pop("queued", None)
        query_value = decode(query_value) if query_value else None
        product_value = decode(product_value) if product_value else None
        outcome = "hit" if query_outcome == "hit" and product_outcome == "hit" else (
            "partial" if "hit" in (query_outcome, product_outcome) else query_outcome)
        arm, withheld = ({"arm": None} if experiment is not None else {}), False
        if unit is not None:
            experiment.record(unit, "pair", query_cache_key(q) + " " + product_key(product_id), outcome)
            arm, withheld = {"arm": unit[1].arm}, not unit[1].knowledge
            if withheld:  # control: looked up and logged, but not shown
                outcome, extra = "withheld", {}
        metrics.observe("pair", (time.perf_counter() - started) * 1000, outcome)
        return {"query_outcome": query_outcome, "product_outcome": product_outcome, "version": view.version,
                "text": "" if withheld else pair_text(query_value, product_value), **arm, **extra}

    def background_health() -> dict[str, Any]:
        return {"steps": health.snapshot(), "failing": health.failing, "misses_held_in_memory": queue.held(),
                "misses_refused": {**admission.refused, "queue_full": queue.refused_full}}

    @app.get("/health", summary="Liveness, the live snapshot version and the background loop's health")
    async def health_page():
        version = store.version()
        problems = ([store.problem] if store.problem else []) + [
            f"background step {name!r} is failing: {health.snapshot()[name]['last_error']}"
            for name in health.failing]
        status = "empty" if not version else ("degraded" if problems else "ok")
        return {"status": status, "version": version, "problems": problems, "background": background_health()}

    @app.get("/metrics", summary="Hit rate, latency histogram, errors by status, background loop (JSON)")
    async def metrics_json():
        return {**metrics.snapshot(), "background": background_health()}

    @app.get("/metrics/prometheus", response_class=PlainTextResponse, summary="Metrics in Prometheus text format")
    async def metrics_prometheus():
        return metrics.prometheus(background_health())

    return app
