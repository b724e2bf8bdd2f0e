"""Per-person login tokens: created by an admin command, stored only as SHA-256 hashes.

A token is shown once, when it is created; the store keeps its hash, so a copied store file
does not reveal anyone's token. The web app exchanges it for a session at login
(:mod:`intentkg.annotate.sessions`); re-issuing or revoking a token ends its sessions.
Roles: ``annotator`` answers items; ``resolver`` also resolves disagreements and audits; ``admin``
also sees the agreement page.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from intentkg.annotate.store import Store, now
from intentkg.errors import ConfigError

USER_ROLES = ("annotator", "resolver", "admin")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


@dataclass(frozen=True)
class User:
    name: str
    role: str

    @property
    def can_resolve(self) -> bool:
        return self.role in ("resolver", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_user(store: Store, name: str, role: str = "annotator", *, replace: bool = False) -> str:
    """Create ``name`` (or give it a new token with ``replace``) and return the new token."""
    if not _NAME.match(name):
        raise ConfigError(f"user name {name!r}: use 1-64 letters, digits, '_', '.', '@' or '-'")
    if role not in USER_ROLES:
        raise ConfigError(f"role {role!r}: use one of {', '.join(USER_ROLES)}")
    token = secrets.token_urlsafe(24)
    with store.transaction() as con:
        exists = con.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone()
        if exists and not replace:
            raise ConfigError(f"user {name!r} already exists; pass --replace to issue a new token "
                              f"(the old one stops working)")
        con.execute("INSERT OR REPLACE INTO users (name, role, token_sha256, created_at, revoked_at) "
                    "VALUES (?, ?, ?, ?, NULL)", (name, role, token_hash(token), now()))
        con.execute("DELETE FROM sessions WHERE name = ?", (name,))  # the old token's sessions end too
    return token


def revoke_user(store: Store, name: str) -> None:
    with store.transaction() as con:
        cur = con.execute("UPDATE users SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", (now(), name))
        if cur.rowcount == 0:
            raise ConfigError(f"user {name!r} does not exist or is already revoked")
        con.execute("DELETE FROM sessions WHERE name = ?", (name,))


def authenticate(store: Store, token: str | None) -> User | None:
    """The active user holding ``token``, or None."""
    if not token or len(token) > 200:
        return None
    with store.connect() as con:
        row = con.execute("SELECT name, role FROM users WHERE token_sha256 = ? AND revoked_at IS NULL",
                          (token_hash(token),)).fetchone()
    return User(row["name"], row["role"]) if row else None


def list_users(store: Store) -> list[dict]:
    with store.connect() as con:
        rows = con.execute("SELECT name, role, created_at, revoked_at FROM users ORDER BY name")
        return [dict(r) for r in rows]
