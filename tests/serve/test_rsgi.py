"""The API on Granian's RSGI interface (as `intentkg serve run` starts it) answers every request exactly as the FastAPI app
does over ASGI: the fast path's knowledge GETs, and everything handed to FastAPI through the RSGI
adapter (errors, OpenAPI docs and their streamed static files, other methods, request bodies); the
lifespan's background loop runs (misses reach the queue) and stops cleanly."""

from __future__ import annotations

import asyncio

import httpx

from intentkg.serve.app import create_app
from intentkg.serve.keys import encode
from intentkg.serve.server import ServeSettings
from intentkg.serve.sqlite_store import SQLiteMissQueue, SQLiteSnapshotWriter, SQLiteStore

from .conftest import free_port, start_granian
from .test_fast_path import EDGE, FACTS, HOT, _get_all
from .test_workers import _alive, _until

DOCS = [("/openapi.json", {}), ("/docs", {}), ("/redoc", {}), ("/static-offline-docs/swagger-ui-bundle.js", {}),
        ("/static-offline-docs/favicon.png", {})]


def _real(url: str, requests) -> list[tuple[int, str | None, bytes]]:
    with httpx.Client(base_url=url) as client:
        out = [client.get(path, params=params) for path, params, _ in requests]
        out += [client.post("/v1/knowledge/query", params={"q": "tent"}, content=b'{"q": "tent"}'),
                client.head("/health")]
    return [(r.status_code, r.headers.get("content-type"), r.content) for r in out]


async def _reference(app, requests):
    answers = await _get_all(app, requests)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for r in (await client.post("/v1/knowledge/query", params={"q": "tent"}, content=b'{"q": "tent"}'),
                  await client.head("/health")):
            answers.append((r.status_code, r.headers.get("content-type"), r.content))
    return answers


def test_the_rsgi_server_answers_as_fastapi_over_asgi(tmp_path):
    serve = tmp_path / "serve"
    SQLiteSnapshotWriter(serve).write_snapshot([
        ("q:winter camping gear", encode("query", "winter camping gear", FACTS, "tier1")),
        ("p:M1", encode("product", "Arctic mattress", FACTS, "tier1"))])
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "server.log"
    settings = ServeSettings(str(tmp_path), per_client_per_minute=1000, metrics_dir=str(tmp_path / "metrics"))
    server = start_granian(port, settings, log_path)
    try:
        assert _until(lambda: _alive(url) or server.poll() is not None, 90) and server.poll() is None, \
            log_path.read_text(errors="replace")[-3000:]
        requests = [(p, q, {}) for p, q in HOT + EDGE + DOCS]
        real = _real(url, requests)
        reference = create_app(SQLiteStore(serve), SQLiteMissQueue(tmp_path / "reference-queue"))
        assert real == asyncio.run(_reference(reference.api, requests))  # FastAPI alone, over ASGI
        assert len(real[len(HOT) + len(EDGE) + 3][2]) > 1_000_000  # a streamed file, whole
        metrics = httpx.get(url + "/metrics").json()
        expected = reference.state.metrics.snapshot()
        assert {k: metrics[k] for k in ("requests", "outcomes", "errors")} == \
            {k: expected[k] for k in ("requests", "outcomes", "errors")}
        repeated = [httpx.get(url + "/v1/knowledge/query", params={"q": "Winter Camping  gear"}) for _ in range(3)]
        assert len({r.content for r in repeated}) == 1 and repeated[0].json()["outcome"] == "hit"
        queue = SQLiteMissQueue(serve)  # the lifespan's background loop flushes misses every second
        assert _until(lambda: ("q:garden hose", 1) in queue.pending(), 60), queue.pending()
    finally:
        server.terminate()
        code = server.wait(timeout=20)
    assert code == 0 and "Traceback" not in log_path.read_text(errors="replace")
