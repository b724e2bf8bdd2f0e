"""Logins through the real app: server-side sessions, CSRF on /login and /logout, the login rate limit,
Secure cookies over TLS and the plain-HTTP warning (issue 18, item 7)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from helpers.annotate_helpers import csrf_of, free_port, log_in, make_store

from intentkg.annotate.app import create_app
from intentkg.annotate.tokens import create_user


@pytest.fixture
def app_and_tokens(tmp_path):
    store, _, tokens = make_store(tmp_path, n=2)
    return create_app(store), tokens, store


def test_the_cookie_is_a_server_side_session_not_the_token(app_and_tokens):
    """Old code set the raw long-lived token as the cookie."""
    app, tokens, store = app_and_tokens
    client = TestClient(app)
    r = log_in(client, tokens["ann1"])
    assert r.status_code == 303
    cookie = client.cookies.get("intentkg_session")
    assert cookie and cookie != tokens["ann1"] and tokens["ann1"] not in r.headers["set-cookie"]
    header = r.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=strict" in header and "secure" not in header
    with store.connect() as con:
        assert con.execute("SELECT COUNT(*) FROM sessions WHERE session_sha256 = ?",
                           (cookie,)).fetchone()[0] == 0  # only the hash is stored
    page = client.get("/annotate").text
    assert client.post("/logout", data={"csrf": csrf_of(page)}, follow_redirects=False).status_code == 303
    replay = TestClient(app, cookies={"intentkg_session": cookie})
    assert replay.get("/annotate", follow_redirects=False).headers["location"] == "/login"  # ended server-side


def test_secure_cookie_over_tls(app_and_tokens):
    app, tokens, _ = app_and_tokens
    r = log_in(TestClient(app, base_url="https://testserver"), tokens["ann1"])
    assert r.status_code == 303 and "secure" in r.headers["set-cookie"].lower()


def test_login_and_logout_need_their_csrf_value(app_and_tokens):
    """Old code accepted a cross-site POST /login (login CSRF) and POST /logout."""
    app, tokens, _ = app_and_tokens
    client = TestClient(app)
    forged = client.post("/login", data={"token": tokens["ann1"]}, follow_redirects=False)
    assert forged.status_code == 403 and "intentkg_session" not in forged.headers.get("set-cookie", "")
    assert log_in(client, tokens["ann1"]).status_code == 303
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert client.get("/annotate").status_code == 200  # still logged in


def test_failed_logins_are_rate_limited(app_and_tokens):
    """Old code let a client guess tokens without limit."""
    app, tokens, _ = app_and_tokens
    client = TestClient(app)
    for _ in range(5):
        assert log_in(client, "guess").status_code == 401
    blocked = log_in(client, tokens["ann1"])
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert "Too many failed logins" in blocked.text


def test_reissuing_a_token_ends_its_sessions(app_and_tokens):
    app, tokens, store = app_and_tokens
    client = TestClient(app)
    log_in(client, tokens["ann1"])
    create_user(store, "ann1", replace=True)
    assert client.get("/annotate", follow_redirects=False).headers["location"] == "/login"


def test_a_refused_answer_says_why_on_the_page(app_and_tokens):
    app, tokens, store = app_and_tokens
    client = TestClient(app)
    log_in(client, tokens["ann1"])
    page = client.get("/annotate").text
    other = next(i.item_id for i in store.items() if f'value="{i.item_id}"' not in page)
    answers = dict(completeness="yes", relevance="yes", informativeness="yes", plausibility="yes", typicality="yes")
    r = client.post("/annotate", data=dict(answers, csrf=csrf_of(page), item_id=other, shown_at="0"))
    assert "not given to you" in r.text and store.answers() == [] and len(store.refused_answers()) == 1


def test_warns_when_served_beyond_loopback_over_plain_http(tmp_path):
    """Old code served tokens in clear text on 0.0.0.0 without a word."""
    env = dict(os.environ, INTENTKG_NO_PROGRESS="1", COLUMNS="200")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "intentkg.cli.main", "annotate", "serve", "-w", str(tmp_path),
                               "--host", "0.0.0.0", "--port", str(port)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 120  # a fresh interpreter importing the CLI, on a slow machine
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "server did not start"
            time.sleep(0.2)
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert "warning: serving on 0.0.0.0 over plain HTTP" in stderr
