"""The web app through Starlette's test client: login, escaping, CSRF, roles, resolve, undo."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from helpers.annotate_helpers import MARKUP_TITLE, csrf_of, item_of, log_in, make_store

from intentkg.annotate.app import create_app

ANSWERS = dict(completeness="yes", relevance="yes", informativeness="yes", plausibility="yes", typicality="yes")


@pytest.fixture
def setup(tmp_path):
    store, users, tokens = make_store(tmp_path, n=2)
    app = create_app(store)

    def login(name: str) -> TestClient:
        client = TestClient(app)
        r = log_in(client, tokens[name])
        assert r.status_code == 303
        assert "httponly" in r.headers["set-cookie"].lower() and "samesite=strict" in r.headers["set-cookie"].lower()
        return client

    return store, login, TestClient(app)


def _answer(client: TestClient, **override) -> str:
    page = client.get("/annotate").text
    item = item_of(page)
    r = client.post("/annotate", data=dict(ANSWERS, csrf=csrf_of(page), item_id=item, shown_at="0", **override),
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return item


def test_login_required_and_bad_token(setup):
    _, _, anon = setup
    assert anon.get("/annotate", follow_redirects=False).headers["location"] == "/login"
    r = log_in(anon, "nope")
    assert r.status_code == 401 and "Unknown or revoked token" in r.text


def test_untrusted_text_is_escaped_everywhere(setup):
    store, login, _ = setup
    client = login("ann1")
    page = client.get("/annotate").text
    assert "<script>alert" not in page and "<b>Dome Tent</b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;Dome Tent&lt;/b&gt; &amp; &#34;Co&#34;" in page
    csp = client.get("/annotate").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    _answer(client)
    ann2 = login("ann2")
    _answer(ann2, typicality="no")
    resolve_page = login("res").get("/resolve").text
    assert MARKUP_TITLE not in resolve_page and "&lt;script&gt;" in resolve_page


def test_csrf_and_incomplete_answers(setup):
    store, login, _ = setup
    client = login("ann1")
    page = client.get("/annotate").text
    bad = client.post("/annotate", data=dict(ANSWERS, csrf="forged", item_id=item_of(page)), follow_redirects=False)
    assert bad.status_code == 403
    partial = dict(ANSWERS, csrf=csrf_of(page), item_id=item_of(page))
    del partial["typicality"]
    r = client.post("/annotate", data=partial, follow_redirects=False)
    assert r.headers["location"] == "/annotate?msg=incomplete" and store.answers() == []


def test_roles_and_blindness(setup):
    store, login, _ = setup
    ann1 = login("ann1")
    item = _answer(ann1, plausibility="no")
    ann2 = login("ann2")
    page = ann2.get("/annotate").text
    assert item_of(page) == item
    assert "checked" not in page and "annotator 1" not in page  # nothing of ann1's answer shows
    assert "waiting for a resolver" not in page and "disagreements" not in ann2.get("/").text
    assert ann2.get("/resolve").status_code == 403 and ann2.get("/agreement").status_code == 403
    _answer(ann2)
    res = login("res")
    page = res.get("/resolve").text
    assert "annotator 1: no" in page and "annotator 2: yes" in page and 'name="plausibility"' in page
    assert 'name="relevance"' not in page  # agreed questions are not asked again
    r = res.post("/resolve", data={"csrf": csrf_of(page), "item_id": item, "plausibility": "yes"}, follow_redirects=False)
    assert r.headers["location"] == "/resolve?msg=stored"
    assert [a.role for a in store.answers_for(item)] == ["annotator", "annotator", "resolver"]
    boss = login("boss")
    report = boss.get("/agreement").text
    assert "Annotation agreement" in report and "Cohen" in report


def test_undo_from_the_page(setup):
    store, login, _ = setup
    client = login("ann1")
    item = _answer(client)
    page = client.get("/annotate").text
    r = client.post("/undo", data={"csrf": csrf_of(page), "back": "annotate"}, follow_redirects=False)
    assert r.headers["location"] == "/annotate?msg=undone" and store.answers() == []
    assert item_of(client.get("/annotate").text) == item
