"""The baseline of bench_serve.py: a bare ASGI app that answers every request with a constant JSON
body (no routing, no lookup). Served by uvicorn + httptools it is the issue's reference; served by
Granian it is the constant endpoint of our own stack."""

BODY = b'{"key":"q:constant","outcome":"hit","entry":null}'
HEADERS = [(b"content-length", str(len(BODY)).encode()), (b"content-type", b"application/json")]


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
