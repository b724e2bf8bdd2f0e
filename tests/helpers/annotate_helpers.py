"""Helpers for the annotation tests: items with untrusted markup, people, and a real uvicorn server."""

from __future__ import annotations

import re
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from intentkg.annotate.store import Item, Store
from intentkg.annotate.tokens import authenticate, create_user

YES = dict(completeness=True, relevance=True, informativeness=True, plausibility=True, typicality=True)
MARKUP_TITLE = '<script>alert("x")</script><b>Dome Tent</b> & "Co"'
ROLES = (("ann1", "annotator"), ("ann2", "annotator"), ("ann3", "annotator"), ("res", "resolver"), ("boss", "admin"))


def make_items(n: int, batch: str = "main", prefix: str = "c") -> list[Item]:
    return [Item(f"{prefix}{i:03d}", "search_buy", f"winter tent -> Tent {i}", "used_for_event", f"winter camping {i}",
                 left_text="winter tent", right_text=MARKUP_TITLE if i == 0 else f"Tent {i}", batch=batch,
                 category="Camping")
            for i in range(n)]


def make_store(folder: Path, n: int = 6) -> tuple[Store, dict, dict]:
    """A store with ``n`` items and five people; returns (store, users by name, tokens by name)."""
    store = Store(folder / "annotate" / "store.sqlite")
    store.add_items(make_items(n))
    tokens = {name: create_user(store, name, role) for name, role in ROLES}
    return store, {name: authenticate(store, t) for name, t in tokens.items()}, tokens


def log_in(client, token: str):
    """Log in through the form as a browser does (the form's CSRF value, then the token); the response."""
    form = re.search(r'name="csrf" value="([^"]*)"', client.get("/login").text)
    return client.post("/login", data={"token": token, "csrf": form.group(1) if form else ""},
                       follow_redirects=False)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def item_of(html: str) -> str | None:
    match = re.search(r'name="item_id" value="([^"]+)"', html)
    return match.group(1) if match else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(app):
    """A real uvicorn server for ``app`` on 127.0.0.1:<free port>, in a thread; yields the base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", workers=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
