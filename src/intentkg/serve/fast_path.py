"""A raw fast path in front of the FastAPI app, for the three knowledge GETs, on Granian's RSGI
interface (and on ASGI, for uvicorn and tests).

A cached hit is one store GET; routing, dependency injection and response classes cost several
times that (issue 17: FastAPI + uvicorn answered 3,897 req/s where a bare ASGI app did 14,989), and
so does an ASGI server's message protocol. So ``GET /v1/knowledge/query``, ``/product/{id}`` and
``/pair`` with the parameters they need are answered here, by the same
:class:`~intentkg.serve.answers.KnowledgeAnswers` methods the FastAPI routes call, into the same
bytes, and under Granian through RSGI (``__rsgi__``: one scope object in, one ``response_bytes``
call out). Everything else goes to FastAPI unchanged (under RSGI through :mod:`intentkg.serve.rsgi`):
other paths and methods, a missing parameter (422), a bad one (400: the answers raise before anything
is read or counted, and FastAPI raises it again and counts it once), /docs, /redoc, /openapi.json,
/metrics, /health and the lifespan events that run the background loop.

Outside an experiment, a query string that is only ``q=<value>`` (the usual search request) is first
looked up among the snapshot's hit bodies (:meth:`KnowledgeAnswers.plain_query_hit`): a plain key is
answered from there without the general parameter parsing, the checks and the call chain (they
would pass and answer those bytes); anything else takes the general path.

A hit outside an experiment is kept as its response bytes for the live snapshot
(:mod:`intentkg.serve.response_cache`, ``response_cache_bytes``, 64 MB a worker by default,
``serve run --response-cache-mb``), keyed by the path and the raw query string and looked up before
anything is parsed or scrubbed: the same request again is answered from there, and counted. An
answer read from the snapshot's hit bodies is kept only while the cache has room, never in place of
another: reading it again costs about what keeping it saves, and with keys spread over a snapshot
larger than the cache, pushing one answer out for another on every request cost more than it saved.

Parameters are parsed as Starlette parses them (what ``parse_qsl`` gives for the Latin-1 query
string, the last value of a repeated name; the first ``X-Intentkg-Unit`` header), so both paths read
the same values. Under RSGI a query string that is not ASCII goes to FastAPI (Granian hands it over
decoded, Starlette reads the bytes as Latin-1).
"""

from __future__ import annotations

from time import perf_counter
from urllib.parse import unquote, unquote_to_bytes

from fastapi import HTTPException

from intentkg.serve.answers import KnowledgeAnswers, json_body, parse_flag
from intentkg.serve.health import log
from intentkg.serve.response_cache import ResponseCache
from intentkg.serve.rsgi import Lifespan, call_asgi

QUERY, PAIR, PRODUCT = "/v1/knowledge/query", "/v1/knowledge/pair", "/v1/knowledge/product/"
ENDPOINTS = {QUERY: "query", PAIR: "pair"}
UNIT_HEADER = "x-intentkg-unit"
CRASH = b'{"detail":"internal error (logged)"}'
RSGI_HEADERS = [("content-type", "application/json")]  # Granian adds content-length itself
ASGI_TYPE = (b"content-type", b"application/json")


def _unquote(text: str) -> str:
    """``urllib.parse.unquote(text)`` of a text holding a "%": for an ASCII text that is its one step
    (the bytes of the %-escapes, decoded as UTF-8 with replacement), taken directly; and when every
    "%" starts a "%20" (the escaped space of most query strings) that step gives the text with each
    "%20" replaced by a space, which ``str.replace`` does in C (a "%" left after replacing them all
    is one that does not start a "%20": then the general step)."""
    if text.isascii():
        spaced = text.replace("%20", " ")
        return spaced if "%" not in spaced else unquote_to_bytes(text).decode("utf-8", "replace")
    return unquote(text)


def _params(query: str) -> dict[str, str]:
    """``dict(parse_qsl(query, keep_blank_values=True))``, as Starlette reads it, in fewer steps."""
    params: dict[str, str] = {}
    if query:
        for part in query.split("&"):
            if part:
                name, _, value = part.partition("=")
                name, value = name.replace("+", " "), value.replace("+", " ")
                params[_unquote(name) if "%" in name else name] = _unquote(value) if "%" in value else value
    return params


def _endpoint(path: str) -> str | None:
    """"query", "pair" or "product" for a knowledge GET the fast path answers, else None."""
    endpoint = ENDPOINTS.get(path)
    if endpoint is None and path.startswith(PRODUCT) and len(path) > len(PRODUCT) \
            and "/" not in path[len(PRODUCT):]:
        return "product"
    return endpoint


class FastPath:
    """The app the server runs (RSGI under Granian, ASGI elsewhere): the knowledge GETs here, the rest
    to ``api`` (FastAPI)."""

    def __init__(self, api, answers: KnowledgeAnswers, response_cache_bytes: int = 0):
        self.api, self.answers = api, answers
        self._store, self._metrics = answers.store, answers.metrics  # one attribute read each on a hit
        self._with_header = answers.experiment is not None  # the header matters only in an experiment
        self._plain_lane = answers.experiment is None  # q=<plain key>: from the hit bodies (see the module)
        self.cache = (ResponseCache(response_cache_bytes)
                      if response_cache_bytes > 0 and answers.experiment is None else None)
        self._lifespan: Lifespan | None = None

    @property
    def state(self):
        return self.api.state

    def _cached(self, path: str, query: str) -> bytes | None:
        """The body kept for the same request to this snapshot, counted as the hit it is; or None. Only
        knowledge GETs the fast path answered are kept, so a kept body needs no other check."""
        started = perf_counter()
        entry = self.cache.get(self._store.view().version, (path, query))
        if entry is None:
            return None
        self._metrics.hit(entry[0], (perf_counter() - started) * 1000)
        return entry[1]

    def _respond(self, endpoint: str, path: str, query: str, header: str | None,
                 host: str | None) -> tuple[int, bytes] | None:
        """(status, body), or None when the request is FastAPI's to answer."""
        try:
            body = self._answer(endpoint, path, query, header, host)
        except HTTPException:
            return None  # FastAPI answers it (and counts it) as it always has
        except Exception:  # noqa: BLE001 - as FastAPI's crash handler: logged, counted, a 500
            log.exception("request %s failed", path)
            self.answers.metrics.error(endpoint, 500)
            return 500, CRASH
        return None if body is None else (200, body)

    def _answer(self, endpoint: str, path: str, query: str, header: str | None, host: str | None) -> bytes | None:
        """The body, or None when a required parameter is missing (FastAPI answers a 422)."""
        params = _params(query)
        if endpoint == "pair":
            q, product_id = params.get("q"), params.get("product_id")
            leave_out = parse_flag(params.get("leave_out_query"))
            if q is None or product_id is None or leave_out is None:
                return None
            return json_body(self.answers.pair(q, product_id, params.get("unit_id"), header, host, leave_out))
        if endpoint == "query":
            q = params.get("q")
            if q is None:
                return None
            body, reusable, from_bodies = self.answers.answer_query(q, params.get("unit_id"), header, host)
        else:
            body, reusable, from_bodies = self.answers.answer_product(path[len(PRODUCT):], params.get("unit_id"),
                                                                      header, host)
        if reusable is not None and self.cache is not None:
            self.cache.put(reusable, (path, query), endpoint, body, evict=not from_bodies)
        return body

    # RSGI (Granian)
    async def __rsgi__(self, scope, protocol) -> None:
        if scope.method == "GET" and scope.proto == "http":
            path, query = scope.path, scope.query_string
            cache = self.cache
            if cache is not None:  # before anything is parsed or scrubbed; _cached, one call fewer
                started = perf_counter()
                entry = cache.get(self._store.view().version, (path, query))
                if entry is not None:
                    self._metrics.hit(entry[0], (perf_counter() - started) * 1000)
                    protocol.response_bytes(200, RSGI_HEADERS, entry[1])
                    return
            endpoint = _endpoint(path)
            if endpoint is not None and query.isascii():
                if endpoint == "query" and self._plain_lane and query.startswith("q=") and "&" not in query:
                    value = query[2:].replace("+", " ")  # as _params reads the one parameter
                    hit = self.answers.plain_query_hit(_unquote(value) if "%" in value else value)
                    if hit is not None:
                        if cache is not None:
                            cache.put(hit[1], (path, query), "query", hit[0], evict=False)
                        protocol.response_bytes(200, RSGI_HEADERS, hit[0])
                        return
                answer = self._respond(endpoint, path, query,
                                       scope.headers.get(UNIT_HEADER) if self._with_header else None,
                                       scope.client.rpartition(":")[0].strip("[]") or None)
                if answer is not None:
                    protocol.response_bytes(answer[0], RSGI_HEADERS, answer[1])
                    return
        await call_asgi(self.api, scope, protocol, self._lifespan.state if self._lifespan else {})

    def __rsgi_init__(self, loop) -> None:
        self._lifespan = Lifespan(self.api)
        self._lifespan.start(loop)

    def __rsgi_del__(self, loop) -> None:
        if self._lifespan is not None:
            self._lifespan.stop(loop)

    # ASGI (uvicorn, tests)
    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            path = scope["path"]
            endpoint = _endpoint(path)
            if endpoint is not None:
                query = scope["query_string"].decode("latin-1")
                body = self._cached(path, query) if self.cache is not None else None
                answer = (200, body) if body is not None else self._respond(
                    endpoint, path, query, _asgi_header(scope) if self._with_header else None, _asgi_host(scope))
                if answer is not None:
                    status, body = answer
                    await send({"type": "http.response.start", "status": status,
                                "headers": [(b"content-length", str(len(body)).encode()), ASGI_TYPE]})
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.api(scope, receive, send)


def _asgi_header(scope) -> str | None:
    name = UNIT_HEADER.encode()
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _asgi_host(scope) -> str | None:
    client = scope.get("client")
    return client[0] if client else None
