"""Login sessions and the login rate limit of the annotation app.

A login exchanges the long-lived token for a random session id: the cookie carries only that id
(``HttpOnly``, ``SameSite=Strict``, ``Secure`` over TLS) and the store only its SHA-256, so a
stolen cookie dies with its session (logout, expiry, revoking or re-issuing the person's token).
Forms carry a CSRF value derived from the session id; the login form, before any session exists,
carries one tied to a short-lived pre-login cookie (double submit).

After ``MAX_FAILURES`` failed logins within ``WINDOW_SECONDS`` a client (by address) is refused
until its oldest failure in the window ages out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import datetime, timedelta, timezone

from intentkg.annotate.store import Store, now
from intentkg.annotate.tokens import User

SESSION_SECONDS = 12 * 3600
MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def csrf_for(secret: str) -> str:
    """A form value derived from (never equal to) a session id or pre-login cookie."""
    return hmac.new(secret.encode("utf-8"), b"intentkg-annotate-csrf", hashlib.sha256).hexdigest()[:32]


def csrf_ok(secret: str | None, sent: str | None) -> bool:
    return bool(secret) and bool(sent) and hmac.compare_digest(csrf_for(secret), sent)


def start_session(store: Store, name: str) -> str:
    session_id = secrets.token_urlsafe(32)
    expires = (datetime.now(timezone.utc) + timedelta(seconds=SESSION_SECONDS)).isoformat(timespec="milliseconds")
    with store.transaction() as con:
        con.execute("DELETE FROM sessions WHERE expires_at < ?", (now(),))
        con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", (_hash(session_id), name, now(), expires))
    return session_id


def session_user(store: Store, session_id: str | None) -> User | None:
    """The active person of a live session, or None."""
    if not session_id or len(session_id) > 200:
        return None
    with store.connect() as con:
        row = con.execute("SELECT u.name, u.role FROM sessions s JOIN users u USING (name) "
                          "WHERE s.session_sha256 = ? AND s.expires_at > ? AND u.revoked_at IS NULL",
                          (_hash(session_id), now())).fetchone()
    return User(row["name"], row["role"]) if row else None


def end_session(store: Store, session_id: str | None) -> None:
    if session_id:
        with store.transaction() as con:
            con.execute("DELETE FROM sessions WHERE session_sha256 = ?", (_hash(session_id),))


def login_blocked_for(store: Store, client: str) -> float:
    """Seconds until ``client`` may try to log in again (0 when it may now)."""
    cutoff = time.time() - WINDOW_SECONDS
    with store.connect() as con:
        rows = con.execute("SELECT at FROM login_failures WHERE client = ? AND at > ? ORDER BY at",
                           (client, cutoff)).fetchall()
    if len(rows) < MAX_FAILURES:
        return 0.0
    return max(1.0, rows[-MAX_FAILURES]["at"] + WINDOW_SECONDS - time.time())


def record_failure(store: Store, client: str) -> None:
    with store.transaction() as con:
        con.execute("DELETE FROM login_failures WHERE at < ?", (time.time() - WINDOW_SECONDS,))
        con.execute("INSERT INTO login_failures VALUES (?, ?)", (client, time.time()))
