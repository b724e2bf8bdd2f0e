"""The HTTP API (FastAPI). No LLM on the request path: a hit is a store GET; a miss is answered at
once with the nearest cached query's knowledge (flagged) or nothing, and queued for the refresh job.
Handlers are async and call the store directly: a GET is microseconds (an immutable SQLite file,
or one loopback Redis round trip), cheaper than a hop to the thread pool.

    GET /v1/knowledge/query?q=winter+camping+gear
    GET /v1/knowledge/product/{product_id}
    GET /v1/knowledge/pair?q=...&product_id=...     (the text the ESCI evaluation injects)
    (each takes an optional unit_id / X-Intentkg-Unit header: with an experiment configured, the
     unit's arm is returned and logged, and the control arm gets no knowledge; see serve/arms.py)
    GET /health      GET /metrics      GET /metrics/prometheus      GET /docs (OpenAPI)
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Header, HTTPException, Query
from fastapi.responses import PlainTextResponse, Response

from intentkg import __version__
from intentkg.query_key import query_key
from intentkg.serve.keys import MAX_QUERY_CHARS, decode, product_key, query_cache_key
from intentkg.serve.experiment import UNIT_HEADER, ServingExperiment
from intentkg.serve.metrics import Metrics
from intentkg.serve.nearest import NearestQueries
from intentkg.serve.store import KnowledgeStore, MissQueue

PRODUCT_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
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
    if not PRODUCT_ID.match(product_id):
        raise HTTPException(status_code=400,
                            detail="product_id must be 1-64 characters of letters, digits, '.', '_', ':' or '-'")
    return product_id


def create_app(store: KnowledgeStore, queue: MissQueue, *, nearest_source: Callable[[], list[str]] | None = None,
               pair_text: PairText = default_pair_text, flush_every: float = 1.0,
               experiment: ServingExperiment | None = None) -> FastAPI:
    metrics = Metrics()
    nearest = NearestQueries()

    def refresh_nearest() -> None:
        version = store.version()
        if nearest_source is not None and version != nearest.version:
            nearest.rebuild(nearest_source(), version)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        refresh_nearest()

        async def background() -> None:
            while True:
                await asyncio.sleep(flush_every)
                await asyncio.to_thread(queue.flush)
                await asyncio.to_thread(refresh_nearest)
                if experiment is not None:
                    await asyncio.to_thread(experiment.log.flush)

        task = asyncio.create_task(background())
        try:
            yield
        finally:
            task.cancel()
            queue.flush()
            if experiment is not None:
                experiment.log.flush()

    app = FastAPI(title="intentkg knowledge API", version=__version__, lifespan=lifespan,
                  description="Purchase-intention knowledge for queries, products and (query, product) pairs, "
                              "served from a precomputed cache. Misses are queued for the daily refresh.")
    app.state.metrics = metrics

    def lookup(key: str, kind: str, text: str) -> tuple[str | None, str, dict[str, Any]]:
        """(cached JSON text or None, hit|nearest|miss, extra fields)."""
        value = store.get(key)
        if value is not None:
            return value, "hit", {}
        queue.add(key)
        if kind == "query":
            match = nearest.find(text)
            if match is not None:
                borrowed = store.get("q:" + match[0])
                if borrowed is not None:
                    return borrowed, "nearest", {"nearest_query": match[0], "similarity": round(match[1], 3)}
        return None, "miss", {}

    def arm_of(unit_id: str | None, header: str | None):
        return experiment.assign(unit_id or header) if experiment is not None else None

    def answer(endpoint: str, key: str, kind: str, text: str, started: float, unit=None) -> Response:
        value, outcome, extra = lookup(key, kind, text)
        head = {"key": key, "outcome": outcome, "queued": outcome != "hit", "version": store.version(), **extra}
        if experiment is not None:
            head["arm"] = unit[1].arm if unit is not None else None
        if unit is not None:
            experiment.record(unit, endpoint, key, outcome)
            if not unit[1].knowledge:  # control: looked up and logged, but not shown
                value, head["outcome"] = None, "withheld"
                head.pop("nearest_query", None), head.pop("similarity", None)
        # the cached entry is already JSON: splice it in instead of decoding and re-encoding it
        body = json.dumps(head, ensure_ascii=False)[:-1] + ',"entry":' + (value or "null") + "}"
        metrics.observe(endpoint, (time.perf_counter() - started) * 1000, outcome)
        return Response(content=body, media_type="application/json")

    @app.get("/v1/knowledge/query", summary="Intentions for a search query")
    async def knowledge_for_query(q: str = Query(..., description="The search query as typed; PII is scrubbed."),
                                  unit_id: str | None = UNIT_PARAM, unit_header: str | None = UNIT_HEADER_PARAM):
        started = time.perf_counter()
        q, unit = _query_param(q), arm_of(unit_id, unit_header)
        return answer("query", query_cache_key(q), "query", query_key(q), started, unit)

    @app.get("/v1/knowledge/product/{product_id}", summary="Intentions for a product")
    async def knowledge_for_product(product_id: str, unit_id: str | None = UNIT_PARAM,
                                    unit_header: str | None = UNIT_HEADER_PARAM):
        started = time.perf_counter()
        product_id, unit = _product_param(product_id), arm_of(unit_id, unit_header)
        return answer("product", product_key(product_id), "product", product_id, started, unit)

    @app.get("/v1/knowledge/pair", summary="Knowledge text for a (query, product) pair")
    async def knowledge_for_pair(q: str = Query(...), product_id: str = Query(...), unit_id: str | None = UNIT_PARAM,
                                 unit_header: str | None = UNIT_HEADER_PARAM):
        started = time.perf_counter()
        q, product_id, unit = _query_param(q), _product_param(product_id), arm_of(unit_id, unit_header)
        query_value, query_outcome, extra = lookup(query_cache_key(q), "query", query_key(q))
        product_value, product_outcome, _ = lookup(product_key(product_id), "product", product_id)
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
        return {"query_outcome": query_outcome, "product_outcome": product_outcome, "version": store.version(),
                "text": "" if withheld else pair_text(query_value, product_value), **arm, **extra}

    @app.get("/health", summary="Liveness and the live snapshot version")
    async def health():
        version = store.version()
        return {"status": "ok" if version else "empty", "version": version}

    @app.get("/metrics", summary="Hit rate and latency histogram (JSON)")
    async def metrics_json():
        return metrics.snapshot()

    @app.get("/metrics/prometheus", response_class=PlainTextResponse, summary="Metrics in Prometheus text format")
    async def metrics_prometheus():
        return metrics.prometheus()

    return app
