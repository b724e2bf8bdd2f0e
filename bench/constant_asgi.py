"""The baselines of bench_serve.py: a bare app that answers every request with a constant JSON body
(no routing, no lookup). ``app`` (ASGI) served by uvicorn + httptools is the issue's reference;
``rsgi_app`` served by Granian's RSGI interface is the constant endpoint of our own stack (``app``
on Granian's ASGI interface is measured too, to show what RSGI saves)."""

BODY = b'{"key":"q:constant","outcome":"hit","entry":null}'
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
