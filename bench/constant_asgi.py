"""The baselines of bench_serve.py: a bare app that answers every request with a constant JSON body
(no routing, no lookup). ``app`` (ASGI) served by uvicorn + httptools is the issue's reference;
``rsgi_app`` served by Granian's RSGI interface is the constant endpoint of our own stack (``app``
on Granian's ASGI interface is measured too, to show what RSGI saves)."""

import os

BODY = b'{"key":"q:constant","outcome":"hit","entry":null}'
# the same constant padded to CONSTANT_BODY_BYTES (bench_serve.py sets it to the size of the API's answers)
SIZED_BODY = b'{"pad":"' + b"x" * max(0, int(os.environ.get("CONSTANT_BODY_BYTES", "0")) - 10) + b'"}'
HEADERS = [(b"content-length", str(len(BODY)).encode()), (b"content-type", b"application/json")]
RSGI_HEADERS = [("content-type", "application/json")]  # Granian adds content-length


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


async def rsgi_app(scope, protocol):
    """The same constant answer on Granian's RSGI interface (``--interface rsgi constant_asgi:rsgi_app``),
    the interface the API's fast path runs on: the constant endpoint of our own stack."""
    protocol.response_bytes(200, RSGI_HEADERS, BODY)


async def rsgi_sized_app(scope, protocol):
    """``rsgi_app`` with a body as long as the API's answers: what the bytes alone cost."""
    protocol.response_bytes(200, RSGI_HEADERS, SIZED_BODY)
