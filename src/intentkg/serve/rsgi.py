"""Run an ASGI app (the FastAPI app) behind Granian's RSGI interface.

Granian's own protocol, RSGI, hands a request to Python as one scope object and takes the response
in one call (``protocol.response_bytes``): no message dicts, no ``send`` coroutines. Under load it
costs a fraction of its ASGI interface per request, so the knowledge GETs
(:mod:`intentkg.serve.fast_path`) are answered on it directly. Every other request (errors, /docs,
/openapi.json, /metrics, /health, unknown paths) is translated here into an ASGI scope with
``receive``/``send`` and given to FastAPI unchanged, and FastAPI's lifespan (the background loop
that flushes misses) runs at the worker's start and end, as Granian's ASGI interface runs it.

The scope is what Granian's ASGI interface gives: the decoded path, the raw query string as bytes,
lower-case header names, ``client``/``server`` as (host, port). A streamed response (``more_body``)
is streamed; a request body is read whole, then ``receive`` waits for the client to disconnect.
"""

from __future__ import annotations

from typing import Any

from granian.asgi import LifespanProtocol

from intentkg.serve.health import log

ASGI = {"version": "3.0", "spec_version": "2.3"}
CRASH_HEADERS = [("content-type", "text/plain; charset=utf-8")]


def _address(text: str) -> tuple[str, int] | None:
    """``"127.0.0.1:5000"`` or ``"[::1]:5000"`` as ASGI's (host, port)."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def _latin1(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:  # Granian decoded it as UTF-8
        return text.encode("utf-8")


def asgi_scope(scope, state: dict) -> dict[str, Any]:
    """The ASGI HTTP scope for an RSGI one."""
    return {"type": "http", "asgi": ASGI, "http_version": scope.http_version, "method": scope.method,
            "scheme": scope.scheme, "path": scope.path, "root_path": "",  # raw_path: RSGI has none
            "query_string": _latin1(scope.query_string),
            "headers": [(name.encode("latin-1"), _latin1(value)) for name, value in scope.headers.items()],
            "client": _address(scope.client), "server": _address(scope.server), "state": dict(state)}


async def call_asgi(app, scope, protocol, state: dict) -> None:
    """Answer one RSGI request with the ASGI ``app``."""
    response: dict[str, Any] = {"stream": None, "done": False}
    body_read = False

    async def receive() -> dict[str, Any]:
        nonlocal body_read
        if not body_read:
            body_read = True
            return {"type": "http.request", "body": await protocol(), "more_body": False}
        await protocol.client_disconnect()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            response["status"] = message["status"]
            response["headers"] = [(name.decode("latin-1"), value.decode("latin-1"))
                                   for name, value in message.get("headers", ())]
        elif kind == "http.response.body" and not response["done"]:
            body, more = message.get("body", b""), message.get("more_body", False)
            stream = response["stream"]
            if stream is None and not more:
                protocol.response_bytes(response["status"], response["headers"], body)
                response["done"] = True
                return
            if stream is None:
                stream = response["stream"] = protocol.response_stream(response["status"], response["headers"])
            if body:
                await stream.send_bytes(body)
            response["done"] = not more

    try:
        await app(asgi_scope(scope, state), receive, send)
    except Exception:  # noqa: BLE001 - as an ASGI server does: logged, and a 500 if nothing was sent
        log.exception("request %s failed", scope.path)
        if "status" not in response:
            protocol.response_bytes(500, CRASH_HEADERS, b"Internal Server Error")
        return
    if not response["done"] and response["stream"] is None:  # started, no body message
        protocol.response_bytes(response.get("status", 500), response.get("headers", CRASH_HEADERS), b"")


class Lifespan:
    """The ASGI app's lifespan, run from RSGI's worker hooks (``__rsgi_init__``/``__rsgi_del__``)."""

    def __init__(self, app):
        self.protocol = LifespanProtocol(app)

    @property
    def state(self) -> dict:
        return self.protocol.state

    def start(self, loop) -> None:
        loop.run_until_complete(self.protocol.startup())
        if self.protocol.interrupt:
            raise RuntimeError(f"the app's lifespan startup failed: {self.protocol.exc!r}")

    def stop(self, loop) -> None:
        loop.run_until_complete(self.protocol.shutdown())
