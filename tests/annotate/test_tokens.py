"""Per-person tokens: shown once, stored hashed, revocable, roles checked."""

from __future__ import annotations

import pytest

from intentkg.annotate.store import Store
from intentkg.annotate.sessions import csrf_for
from intentkg.annotate.tokens import authenticate, create_user, list_users, revoke_user, token_hash
from intentkg.errors import ConfigError


def test_create_authenticate_revoke(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    token = create_user(store, "ann1")
    assert authenticate(store, token).name == "ann1"
    assert authenticate(store, token + "x") is None and authenticate(store, "") is None
    raw = b"".join(f.read_bytes() for f in tmp_path.iterdir() if f.name.startswith("s.sqlite"))
    assert token.encode() not in raw and token_hash(token).encode() in raw  # only the hash is stored
    with pytest.raises(ConfigError, match="already exists"):
        create_user(store, "ann1")
    new = create_user(store, "ann1", "resolver", replace=True)
    assert authenticate(store, token) is None and authenticate(store, new).role == "resolver"
    revoke_user(store, "ann1")
    assert authenticate(store, new) is None
    assert list_users(store)[0]["revoked_at"]
    assert csrf_for(new) != new and len(csrf_for(new)) == 32


@pytest.mark.parametrize("name,role", [("bad name", "annotator"), ("<b>", "annotator"), ("ok", "boss")])
def test_bad_names_and_roles(tmp_path, name, role):
    with pytest.raises(ConfigError):
        create_user(Store(tmp_path / "s.sqlite"), name, role)
