"""A raw ASGI fast path in front of the FastAPI app, for the three knowledge GETs.

A cached hit is one store GET; routing, dependency injection and response classes cost several
times that (issue 17: FastAPI + uvicorn answered 3,897 req/s where a bare ASGI app did 14,989). So
``GET /v1/knowledge/query``, ``/product/{id}`` and ``/pair`` with the parameters they need are
answered here, by the same :class:`~intentkg.serve.answers.KnowledgeAnswers` methods the FastAPI
routes call, into the same bytes. Everything else goes to FastAPI unchanged: other paths and
methods, a missing parameter (422), a bad one (400: the answers raise before anything is read or
counted, and FastAPI raises it again and counts it once), /docs, /redoc, /openapi.json, /metrics,
/health and the lifespan events that run the background loop.

A hit outside an experiment is kept as its response bytes for the live snapshot
(:mod:`intentkg.serve.response_cache`, ``response_cache_bytes``, 64 MB a worker by
default, ``serve run --response-cache-mb``): the same request again is answered from there, and counted.

Parameters are parsed as Starlette parses them (what ``parse_qsl`` gives for the Latin-1 query string, the last
value of a repeated name; the first ``X-Intentkg-Unit`` header), so both paths read the same values.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote

from fastapi import HTTPException

from intentkg.serve.answers import KnowledgeAnswers, json_body, parse_flag
from intentkg.serve.health import log
from intentkg.serve.response_cache import ResponseCache

QUERY, PAIR, PRODUCT = "/v1/knowledge/query", "/v1/knowledge/pair", "/v1/knowledge/product/"
UNIT_HEADER = b"x-intentkg-unit"
JSON_TYPE = (b"content-type", b"application/json")
CRASH = b'{"detail":"internal error (logged)"}'


def _params(scope) -> dict[str, str]:
    """``dict(parse_qsl(query, keep_blank_values=True))``, as Starlette reads it, in fewer steps."""
    raw = scope["query_string"]
    params: dict[str, str] = {}
    if raw:
        for part in raw.decode("latin-1").split("&"):
            if part:
                name, _, value = part.partition("=")
                params[unquote(name.replace("+", " "))] = unquote(value.replace("+", " "))
    return params


def _unit_header(scope) -> str | None:
    for name, value in scope["headers"]:
        if name == UNIT_HEADER:
            return value.decode("latin-1")
    return None


class FastPath:
    """The ASGI app the server runs: the knowledge GETs here, the rest to ``api`` (FastAPI)."""

    def __init__(self, api, answers: KnowledgeAnswers, response_cache_bytes: int = 0):
        self.api, self.answers = api, answers
        self._with_header = answers.experiment is not None  # the header matters only in an experiment
        self.cache = (ResponseCache(response_cache_bytes)
                      if response_cache_bytes > 0 and answers.experiment is None else None)

    @property
    def state(self):
        return self.api.state

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            path = scope["path"]
            if path == QUERY or path == PAIR or (path.startswith(PRODUCT) and "/" not in path[len(PRODUCT):]
                                                 and len(path) > len(PRODUCT)):
                if self.cache is not None and path != PAIR:
                    started = time.perf_counter()
                    answer = self.cache.get(self.answers.store.view().version, (path, scope["query_string"]))
                    if answer is not None:  # the same request was a hit of this snapshot
                        self.answers.metrics.observe(self._endpoint(path), (time.perf_counter() - started) * 1000,
                                                     "hit")
                        await self._send(send, 200, answer)
                        return
                try:
                    answer = self._answer(scope, path)
                except HTTPException:
                    answer = None  # FastAPI answers it (and counts it) as it always has
                except Exception:  # noqa: BLE001 - as FastAPI's crash handler: logged, counted, a 500
                    log.exception("request %s failed", path)
                    self.answers.metrics.error(self._endpoint(path), 500)
                    await self._send(send, 500, CRASH)
                    return
                if answer is not None:
                    await self._send(send, 200, answer)
                    return
        await self.api(scope, receive, send)

    @staticmethod
    def _endpoint(path: str) -> str:
        return "query" if path == QUERY else "pair" if path == PAIR else "product"

    def _answer(self, scope, path: str) -> bytes | None:
        """The body, or None when the request is FastAPI's to answer (a required parameter is missing)."""
        params = _params(scope)
        header = _unit_header(scope) if self._with_header else None
        client = scope.get("client")
        host = client[0] if client else None
        if path == PAIR:
            q, product_id = params.get("q"), params.get("product_id")
            leave_out = parse_flag(params.get("leave_out_query"))
            if q is None or product_id is None or leave_out is None:
                return None  # FastAPI answers (a 422)
            return json_body(self.answers.pair(q, product_id, params.get("unit_id"), header, host, leave_out))
        if path == QUERY:
            q = params.get("q")
            if q is None:
                return None
            body, reusable = self.answers.answer_query(q, params.get("unit_id"), header, host)
        else:
            body, reusable = self.answers.answer_product(path[len(PRODUCT):], params.get("unit_id"), header, host)
        if reusable is not None and self.cache is not None:
            self.cache.put(reusable, (path, scope["query_string"]), body)
        return body

    @staticmethod
    async def _send(send, status: int, body: bytes) -> None:
        headers: list[Any] = [(b"content-length", str(len(body)).encode()), JSON_TYPE]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
