"""The annotation web app: ``create_app(store)`` returns a FastAPI app with server-rendered pages.

Pages: /login, / (progress), /annotate, /resolve, /audit (one item at a time, five yes/no
questions, keyboard shortcuts, undo), /agreement (admins). Every page is rendered by Jinja2 with
autoescaping, so titles, queries and tails — untrusted text — are always escaped; a strict
Content-Security-Policy allows only our own script file. Logging in exchanges the token for a
server-side session (:mod:`intentkg.annotate.sessions`): the cookie holds a random session id,
HttpOnly, SameSite=Strict and Secure over TLS. Every form, /login and /logout included, carries a
CSRF value; failed logins are rate-limited per client address.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from importlib import resources
from pathlib import Path

import jinja2
from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

from intentkg.annotate.assignment import Queue
from intentkg.annotate.display import relation_phrase
from intentkg.annotate.questions import NAMES, QUESTIONS, parse_answer
from intentkg.annotate.store import Store
from intentkg.annotate.sessions import (SESSION_SECONDS, csrf_for, csrf_ok, end_session, login_blocked_for,
                                        record_failure, session_user, start_session)
from intentkg.annotate.tokens import User, authenticate

COOKIE = "intentkg_session"
LOGIN_COOKIE = "intentkg_login"  # pre-login CSRF secret (double submit)
MESSAGES = {
    "stored": "Saved.", "duplicate": "That answer was already saved.", "undone": "Undone: answer it again.",
    "conflict": "You already answered that item; press u to undo it first.",
    "full": "Your answer was not counted: that item got its answers from others meanwhile (it is kept aside "
            "for the admins). Here is the next one.",
    "not_assigned": "Your answer was not counted: that item was not given to you (it is kept aside for the "
                    "admins). Answer the item shown here.",
    "missing": "Nothing to undo.", "forbidden": "Not allowed.",
    "locked": "That item has all its answers now; it cannot be undone (ask a resolver).",
    "incomplete": "Answer every question (y or n) before submitting.", "bad-token": "Unknown or revoked token.",
    "stale-login": "The login form expired; try again.",
}
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
}


def answer_form(completeness: str = Form(""), relevance: str = Form(""), informativeness: str = Form(""),
                plausibility: str = Form(""), typicality: str = Form("")) -> dict[str, str]:
    """The five yes/no fields of an answer form, as sent."""
    return {"completeness": completeness, "relevance": relevance, "informativeness": informativeness,
            "plausibility": plausibility, "typicality": typicality}


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("intentkg.annotate", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["relation"] = relation_phrase
    return env


def plain_http_warning(host: str, tls: bool) -> str | None:
    """A warning when the app would send tokens and session cookies in clear text beyond this machine."""
    import ipaddress

    if tls or host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    return (f"warning: serving on {host} over plain HTTP: tokens and session cookies cross the network "
            f"unencrypted. Put a TLS proxy in front, or pass --ssl-certfile/--ssl-keyfile.")


def _static(name: str) -> str:
    return resources.files("intentkg.annotate").joinpath("static", name).read_text(encoding="utf-8")


def create_app(store: Store | str | Path, *, per_item: int = 2, title: str = "intentkg annotation") -> FastAPI:
    store = store if isinstance(store, Store) else Store(store)
    queue = Queue(store, per_item=per_item)
    env = _environment()
    app = FastAPI(title=title, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store, app.state.queue = store, queue
    assets = {name: _static(name) for name in ("annotate.js", "annotate.css")}

    def page(template: str, request: Request, user: User | None, status: int = 200, **context) -> HTMLResponse:
        session = request.cookies.get(COOKIE, "")
        msg = MESSAGES.get(request.query_params.get("msg", ""), "")
        html = env.get_template(template).render(user=user, csrf=csrf_for(session) if user else "", message=msg,
                                                 questions=QUESTIONS, title=title, **context)
        return HTMLResponse(html, status_code=status, headers=HEADERS)

    def current(request: Request) -> User | None:
        return session_user(store, request.cookies.get(COOKIE))

    def redirect(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303, headers=HEADERS)

    def checked(request: Request, csrf: str) -> User | None:
        user = current(request)
        if user is None or not csrf_ok(request.cookies.get(COOKIE), csrf):
            return None
        return user

    def client_address(request: Request) -> str:
        return request.client.host if request.client else "-"

    def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
        response.set_cookie(name, value, httponly=True, samesite="strict", max_age=max_age,
                            secure=request.url.scheme == "https")

    def values_from(form: dict[str, str], only: list[str] | None = None) -> dict[str, bool | None] | None:
        values = {}
        for q in NAMES:
            if only is not None and q not in only:
                values[q] = None
                continue
            try:
                values[q] = parse_answer(form.get(q))
            except ValueError:
                return None
            if values[q] is None:
                return None
        return values

    def elapsed(shown_at: str) -> float | None:
        try:
            seconds = time.time() - float(shown_at)
        except ValueError:
            return None
        return round(min(max(seconds, 0.0), 3600.0), 2) if math.isfinite(seconds) else None

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        if name not in assets:
            return PlainTextResponse("not found", status_code=404)
        kind = "text/javascript" if name.endswith(".js") else "text/css"
        return Response(assets[name], media_type=kind, headers={"Cache-Control": "max-age=300"})

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        return JSONResponse({"ok": True, "items": store.count_items()})

    def login_page(request: Request, status: int = 200, error: str | None = None) -> HTMLResponse:
        secret = secrets.token_urlsafe(24)
        response = page("login.html", request, None, status=status, error=error, login_csrf=csrf_for(secret))
        set_cookie(response, request, LOGIN_COOKIE, secret, max_age=3600)
        return response

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> HTMLResponse:
        return login_page(request)

    @app.post("/login")
    def login(request: Request, token: str = Form(""), csrf: str = Form("")) -> Response:
        if not csrf_ok(request.cookies.get(LOGIN_COOKIE), csrf):
            return login_page(request, 403, MESSAGES["stale-login"])
        client = client_address(request)
        wait = login_blocked_for(store, client)
        if wait:
            response = login_page(request, 429, f"Too many failed logins from your address; try again in "
                                                f"{math.ceil(wait / 60)} minutes.")
            response.headers["Retry-After"] = str(math.ceil(wait))
            return response
        user = authenticate(store, token.strip())
        if user is None:
            record_failure(store, client)
            return login_page(request, 401, MESSAGES["bad-token"])
        end_session(store, request.cookies.get(COOKIE))  # a new session id at every login
        response = redirect("/")
        set_cookie(response, request, COOKIE, start_session(store, user.name), max_age=SESSION_SECONDS)
        response.delete_cookie(LOGIN_COOKIE)
        return response

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form("")) -> Response:
        if checked(request, csrf) is None:
            return PlainTextResponse("log in again (missing or stale form token)", status_code=403)
        end_session(store, request.cookies.get(COOKIE))
        response = redirect("/login")
        response.delete_cookie(COOKIE)
        return response

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        user = current(request)
        if user is None:
            return redirect("/login")
        return page("home.html", request, user, progress=queue.progress(user))

    @app.get("/annotate", response_class=HTMLResponse)
    def annotate_page(request: Request) -> Response:
        user = current(request)
        if user is None:
            return redirect("/login")
        item = queue.next_item(user)
        return page("item.html", request, user, mode="annotate", item=item, review=None,
                    progress=queue.progress(user), shown_at=f"{time.time():.3f}")

    @app.post("/annotate")
    def annotate_submit(request: Request, item_id: str = Form(...), csrf: str = Form(""),
                        shown_at: str = Form(""), form: dict = Depends(answer_form)) -> Response:
        return _submit(request, "annotate", item_id, csrf, shown_at, form)

    def _submit(request: Request, mode: str, item_id: str, csrf: str, shown_at: str, form: dict) -> Response:
        user = checked(request, csrf)
        if user is None:
            return PlainTextResponse("log in again (missing or stale form token)", status_code=403)
        only = queue.disputed_questions(item_id) if mode == "resolve" else None
        values = values_from(form, only)
        if values is None:
            return redirect(f"/{mode}?msg=incomplete")
        action = {"annotate": queue.submit, "resolve": queue.resolve, "audit": queue.audit}[mode]
        result = action(user, item_id, values, elapsed(shown_at))
        if result.status == "forbidden":
            return PlainTextResponse(result.message, status_code=403)
        return redirect(f"/{mode}?msg={result.status}")

    @app.post("/undo")
    def undo(request: Request, csrf: str = Form(""), back: str = Form("annotate")) -> Response:
        user = checked(request, csrf)
        if user is None:
            return PlainTextResponse("log in again (missing or stale form token)", status_code=403)
        result = queue.undo(user)
        back = back if back in ("annotate", "resolve", "audit") else "annotate"
        code = {"stored": "undone", "forbidden": "locked"}.get(result.status, result.status)
        return redirect(f"/{back}?msg={code}")

    for mode in ("resolve", "audit"):
        _review_routes(app, mode, queue, page, current, redirect, _submit)

    @app.get("/agreement", response_class=HTMLResponse)
    def agreement_page(request: Request) -> Response:
        user = current(request)
        if user is None or not user.is_admin:
            return PlainTextResponse("admins only", status_code=403)
        from markupsafe import Markup

        from intentkg.annotate.agreement import compute_agreement
        from intentkg.annotate.agreement_html import render_agreement

        report = compute_agreement(store.items(), store.answers())
        # render_agreement builds its HTML from escaped pieces only
        return page("agreement.html", request, user, report_html=Markup(render_agreement(report)),
                    report_json=json.dumps(report, indent=1))

    return app


def _review_routes(app, mode, queue, page, current, redirect, submit) -> None:
    """GET/POST /resolve and /audit: resolvers and admins review items others annotated."""

    def show(request: Request) -> Response:
        user = current(request)
        if user is None:
            return redirect("/login")
        if not user.can_resolve:
            return PlainTextResponse("resolvers and admins only", status_code=403)
        review = queue.next_dispute(user) if mode == "resolve" else queue.next_audit(user)
        return page("item.html", request, user, mode=mode, item=review.item if review else None, review=review,
                    progress=queue.progress(user), shown_at=f"{time.time():.3f}")

    def post(request: Request, item_id: str = Form(...), csrf: str = Form(""), shown_at: str = Form(""),
             form: dict = Depends(answer_form)) -> Response:
        return submit(request, mode, item_id, csrf, shown_at, form)

    app.get(f"/{mode}", response_class=HTMLResponse, name=f"{mode}_page")(show)
    app.post(f"/{mode}", name=f"{mode}_submit")(post)
