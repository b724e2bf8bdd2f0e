"""The raw ASGI fast path answers the knowledge GETs with exactly the bytes the FastAPI routes give,
without calling FastAPI, and hands every other request to FastAPI (which counts its errors once)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from intentkg.serve.app import create_app
from intentkg.serve.arms import Arms
from intentkg.serve.experiment import ServingExperiment
from intentkg.serve.exposure_log import ExposureLog
from intentkg.serve.keys import encode
from intentkg.serve.sqlite_store import SQLiteMissQueue, SQLiteSnapshotWriter, SQLiteStore

FACTS = [{"relation": "used_for_event", "intention": "winter camping", "score": 1.5, "source": "query",
          "intention_id": "intention:1", "neighbour": ""}]
HOT = [("/v1/knowledge/query", {"q": "Winter  Camping gear"}), ("/v1/knowledge/query", {"q": "garden hose"}),
       ("/v1/knowledge/query", {"q": "tent", "unit_id": ""}), ("/v1/knowledge/query", {"q": "x", "other": "y"}),
       ("/v1/knowledge/product/M1", {}), ("/v1/knowledge/product/NOPE", {}),
       ("/v1/knowledge/pair", {"q": "winter camping gear", "product_id": "M1"}),
       ("/v1/knowledge/pair", {"q": "café tent", "product_id": "M2"}),
       ("/v1/knowledge/query?q=tent&q=winter%20camping%20gear", None)]  # the last value counts
EDGE = [("/v1/knowledge/query", {"q": "  "}), ("/v1/knowledge/query", {}), ("/v1/knowledge/query", {"q": "x" * 501}),
        ("/v1/knowledge/product/P1%0A", {}), ("/v1/knowledge/pair", {"q": "tent"}), ("/v1/knowledge/query/", {}),
        ("/nowhere", {}), ("/v1/knowledge/product/a/b", {})]
UNITS = [({"q": "winter camping gear", "unit_id": f"user-{i}"}, {}) for i in range(6)] + [
    ({"q": "winter camping gear"}, {"X-Intentkg-Unit": "user-7"}), ({"q": "tent", "unit_id": "a b"}, {}),
    ({"q": "tent", "unit_id": "jane@example.com"}, {}), ({"q": "tent"}, {})]


class CountingApi:
    """FastAPI behind the fast path, counting the requests that reach it."""

    def __init__(self, api):
        self.api, self.calls = api, 0
        self.state = api.state

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            self.calls += 1
        await self.api(scope, receive, send)


def _app(folder, experiment=None):
    app = create_app(SQLiteStore(folder), SQLiteMissQueue(folder / "queue"), experiment=experiment)
    app.api = CountingApi(app.api)
    return app


async def _get_all(app, requests):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        out = []
        for path, params, headers in requests:
            r = await client.get(path, params=params, headers=headers)
            out.append((r.status_code, r.headers.get("content-type"), r.content))
        return out


@pytest.fixture
def folder(tmp_path):
    SQLiteSnapshotWriter(tmp_path).write_snapshot([
        ("q:winter camping gear", encode("query", "winter camping gear", FACTS, "tier1")),
        ("p:M1", encode("product", "Arctic mattress", FACTS, "tier1"))])
    return tmp_path


def test_fast_path_answers_as_fastapi_does_without_calling_it(folder):
    fast, slow = _app(folder), _app(folder)
    requests = [(p, q, {}) for p, q in HOT]
    assert asyncio.run(_get_all(fast, requests)) == asyncio.run(_get_all(slow.api.api, requests))
    assert fast.api.calls == 0
    counted = [{k: app.state.metrics.snapshot()[k] for k in ("requests", "outcomes", "errors")} for app in (fast, slow)]
    assert counted[0] == counted[1] and counted[0]["requests"] == {"query": 5, "product": 2, "pair": 2}


def test_a_query_answer_is_the_json_head_then_the_cached_entry(folder):
    """The head is written out by hand on the hot path: it must be the bytes json.dumps gives."""
    app = _app(folder, ServingExperiment(Arms("fast-1", knowledge_share=0.5), ExposureLog(folder / "log")))
    requests = [("/v1/knowledge/query", {"q": q, "unit_id": "user-1"}, {}) for q in
                ("winter camping gear", 'café "tent"\\ \u2603')] + [("/v1/knowledge/query", {"q": "tent"}, {})]
    version = SQLiteStore(folder).version()
    arm = Arms("fast-1", 0.5).assign("user-1").arm
    heads = [{"key": "q:winter camping gear", "outcome": "hit" if arm == "treatment" else "withheld", "queued": False,
              "version": version, "arm": arm},
             {"key": 'q:café "tent"\\ \u2603', "outcome": "miss" if arm == "treatment" else "withheld",
              "queued": True, "version": version, "arm": arm},
             {"key": "q:tent", "outcome": "miss", "queued": True, "version": version, "arm": None}]
    for (status, _, body), head in zip(asyncio.run(_get_all(app, requests)), heads):
        assert status == 200 and body.decode().startswith(json.dumps(head, ensure_ascii=False)[:-1] + ',"entry":')


def test_everything_else_goes_to_fastapi_and_is_counted_once(folder):
    fast, slow = _app(folder), _app(folder)
    requests = [(p, q, {}) for p, q in EDGE]
    answers = asyncio.run(_get_all(fast, requests))
    assert answers == asyncio.run(_get_all(slow.api.api, requests))
    assert [status for status, _, _ in answers] == [400, 422, 400, 400, 422, 307, 404, 404]
    assert fast.api.calls == len(EDGE)
    assert fast.state.metrics.snapshot()["errors"] == slow.state.metrics.snapshot()["errors"] == {
        "query:400": 2, "query:422": 1, "product:400": 1, "pair:422": 1, "unmatched:404": 2}


def test_experiment_arms_and_exposures_are_the_same_on_both_paths(folder, tmp_path):
    arms = Arms("fast-1", knowledge_share=0.5)
    logs = [ExposureLog(tmp_path / name) for name in ("fast", "slow")]
    fast = _app(folder, ServingExperiment(arms, logs[0]))
    slow = _app(folder, ServingExperiment(arms, logs[1]))
    requests = [("/v1/knowledge/query", params, headers) for params, headers in UNITS]
    requests += [("/v1/knowledge/pair", {**params, "product_id": "M1"}, headers) for params, headers in UNITS]
    answers = asyncio.run(_get_all(fast, requests))
    assert answers == asyncio.run(_get_all(slow.api.api, requests))
    assert {b'"arm": "control"' in body or b'"arm":"control"' in body for _, _, body in answers} == {True, False}
    assert fast.api.calls == 4  # the two refused unit ids, on both endpoints
    rows = [[{k: v for k, v in row.items() if k != "ts"} for row in log._rows] for log in logs]
    assert rows[0] == rows[1] and len(rows[0]) == 2 * (len(UNITS) - 3)


class CountingStore(SQLiteStore):
    def __init__(self, folder):
        super().__init__(folder, check_every=0)
        self.gets = 0

    def view(self):
        pinned, outer = super().view(), self

        class Counting:
            version, plain, bodies = pinned.version, pinned.plain, pinned.bodies

            def get(self, key):
                outer.gets += 1
                return pinned.get(key)

            def get_plain(self, key):
                outer.gets += 1
                return pinned.get_plain(key)

            def hit_body(self, key):
                outer.gets += 1
                return pinned.hit_body(key)

        return Counting()


def test_a_repeated_hit_is_answered_from_the_response_cache_until_the_snapshot_changes(folder):
    """Only hits outside an experiment, for a query without PII, are kept; a swap empties the cache."""
    store = CountingStore(folder)
    app = create_app(store, SQLiteMissQueue(folder / "queue"))
    hit = ("/v1/knowledge/query", {"q": "winter camping gear"}, {})
    requests = [hit, hit, ("/v1/knowledge/product/M1", {}, {}), ("/v1/knowledge/product/M1", {}, {}),
                ("/v1/knowledge/query", {"q": "hose"}, {}), ("/v1/knowledge/query", {"q": "hose"}, {})]
    first = asyncio.run(_get_all(app, requests))
    # two hits cached, misses never; a query with no capitals or extra spaces is read as a plain key
    # first (serve/plain_keys.py): a hit is one read, a miss two (then scrubbed and read again)
    assert first[0] == first[1] and first[2] == first[3] and store.gets == 6
    counted = app.state.metrics.snapshot()
    assert counted["outcomes"] == {"query:hit": 2, "product:hit": 2, "query:miss": 2}
    SQLiteSnapshotWriter(folder).write_snapshot([
        ("q:winter camping gear", encode("query", "winter camping gear", FACTS, "tier2"))])
    again = asyncio.run(_get_all(app, [hit, hit]))
    assert json.loads(again[0][2])["entry"]["source"] == "tier2" and again[0] == again[1] and store.gets == 7
    pii = ("/v1/knowledge/query", {"q": "call 555-867-5309 about a tent"}, {})
    SQLiteSnapshotWriter(folder).write_snapshot([("q:call [phone] about a tent", encode("query", "t", FACTS, "x"))])
    assert [json.loads(b)["outcome"] for _, _, b in asyncio.run(_get_all(app, [pii, pii]))] == ["hit", "hit"]
    assert store.gets == 11  # a raw query holding personal data is not kept (not a plain key: two reads each)


def test_the_response_cache_holds_at_most_its_bytes_least_recently_used_first():
    from intentkg.serve.response_cache import ENTRY_OVERHEAD, ResponseCache

    cache = ResponseCache(3 * (100 + 1 + 1 + ENTRY_OVERHEAD))
    assert cache.get("v1", ("a", "")) is None  # takes the version
    for name in "abcd":
        cache.put("v1", (name, "q"), "query", b"x" * 100)
        if name == "b":
            assert cache.get("v1", ("a", "q"))  # a is used again: b is the oldest now
    assert len(cache) == 3 and cache.get("v1", ("b", "q")) is None
    assert cache.get("v1", ("a", "q")) == ("query", b"x" * 100, 100 + 1 + 1 + ENTRY_OVERHEAD)
    assert cache.bytes == 3 * (100 + 1 + 1 + ENTRY_OVERHEAD)
    cache.put("v1", ("f", "q"), "query", b"x" * 100, evict=False)  # full: one that need not push another out is not kept
    assert cache.get("v1", ("f", "q")) is None and len(cache) == 3 and cache.get("v1", ("c", "q"))
    cache.put("v0", ("e", "q"), "query", b"y")  # an answer from another version is not kept
    assert cache.get("v1", ("e", "q")) is None
    assert cache.get("v2", ("a", "q")) is None and len(cache) == 0


@pytest.mark.parametrize("query", [
    "q=winter+camping%20gear", "q=caf%C3%A9&unit_id=u1", "q=%E2%82", "q=%E2%82a", "q=%zz%2", "q=a%2Bb+c", "q=&q=tent",
    "q", "=x&&q=%26%3D", "q=%F0%9F%8F%95%ef%b8%8f", "q=%C3", "q=%80%80abc", "%71=tent",
    # every "%" a "%20" (replaced in one step) or not: an escaped "%" before "20", a stray "%", others
    "q=query%2012k345", "q=%20%20a%20", "q=%2520", "q=%%20", "q=%20%", "q=a%20b%41", "q=%2", "q=%20%2x", "%20q=%20"])
def test_parameters_are_read_as_starlette_reads_them(query):
    from urllib.parse import parse_qsl

    from intentkg.serve.fast_path import _params

    assert _params(query) == dict(parse_qsl(query, keep_blank_values=True))
    latin = query.replace("tent", "t\u00e9nt")  # under ASGI a query string is decoded as Latin-1
    assert _params(latin) == dict(parse_qsl(latin, keep_blank_values=True))


class _Scope:
    """What Granian hands ``__rsgi__`` for a GET (the attributes the fast path reads)."""

    def __init__(self, target: str):
        self.method, self.proto, self.headers, self.client = "GET", "http", {}, "127.0.0.1:40000"
        self.path, _, self.query_string = target.partition("?")


class _Protocol:
    def response_bytes(self, status, headers, body):
        self.answer = (status, dict(headers)["content-type"], body)


def _rsgi(app, targets):
    """Drive ``app.__rsgi__`` (no event loop: the fast path never awaits for these)."""
    out = []
    for target in targets:
        protocol = _Protocol()
        with pytest.raises(StopIteration):
            app.__rsgi__(_Scope(target), protocol).send(None)
        out.append(protocol.answer)
    return out


def test_the_q_only_lane_answers_counts_and_keeps_what_the_general_path_does(tmp_path):
    """``q=<plain key>`` is answered from the hit bodies before the general parsing: the same bytes,
    counts, response cache and miss queue as with the lane off, for spellings of one query, capitals,
    personal data, misses and query strings with more than ``q``."""
    from intentkg.query_key import _clean

    keys = ["q:winter camping gear", "q:a+b c", "q:100% cotton", "q:café tent", "q:tent", "q:call [phone] about a tent"]
    SQLiteSnapshotWriter(tmp_path / "s").write_snapshot([(k, encode("query", k, FACTS, "tier1 " + k)) for k in keys])
    targets = ["/v1/knowledge/query?" + q for q in (
        "q=winter+camping+gear", "q=winter%20camping%20gear", "q=winter camping gear", "q=Winter+Camping+Gear",
        "q=winter++camping+gear", "q=a%2Bb+c", "q=a+b+c", "q=100%25+cotton", "q=caf%C3%A9+tent", "q=caf%E9+tent",
        "q=tent", "q=tent&unit_id=u1", "q=x&q=tent", "unit_id=u1&q=tent", "q=tent=", "q=tent%00",
        "q=call+555-867-5309+about+a+tent", "q=call+%5Bphone%5D+about+a+tent", "q=garden+hose", "q=tent",
        "q=winter+camping+gear")]
    runs = []
    for lane in (True, False):
        app = create_app(SQLiteStore(tmp_path / "s"), SQLiteMissQueue(tmp_path / f"queue-{lane}"))
        app._plain_lane = lane
        general, calls = app.answers.answer_query, []
        app.answers.answer_query = lambda *a: calls.append(a[0]) or general(*a)  # what the general path answered
        before = _clean.cache_info()
        answers = _rsgi(app, targets)
        after = _clean.cache_info()
        app.answers.queue.flush()
        metrics = app.state.metrics.snapshot()
        runs.append((answers, len(calls), after.hits + after.misses - before.hits - before.misses,
                     {k: metrics[k] for k in ("requests", "outcomes", "errors")}, list(app.cache._bodies.items()),
                     SQLiteMissQueue(tmp_path / f"queue-{lane}").pending()))
    assert runs[0][0] == runs[1][0] and runs[0][2:] == runs[1][2:]
    outcomes = [json.loads(body)["outcome"] for _, _, body in runs[0][0]]
    # misses: "a b c", "caf\ufffd tent" (not UTF-8), "tent=", "tent\x00" (not queued: NUL), "garden hose"
    assert outcomes.count("miss") == 5 and len(runs[0][5]) == 4 and runs[0][2] > 0
    # two from the response cache; the lane answered the 8 q-only plain hits the general path did not see
    assert (runs[0][1], runs[1][1]) == (11, 19)


def test_an_answer_from_the_hit_bodies_is_kept_only_while_the_cache_has_room(tmp_path):
    """Hit bodies answer a key again about as cheaply as the cache: they never push another answer out
    (uniform keys over a snapshot larger than the cache evicted one answer for another on every request)."""
    from intentkg.serve.response_cache import ENTRY_OVERHEAD

    keys = [f"q:tent {i}" for i in range(6)] + ["p:M1", "p:M2"]
    SQLiteSnapshotWriter(tmp_path / "s").write_snapshot([(k, encode("query", k, FACTS, "x")) for k in keys])
    app = create_app(SQLiteStore(tmp_path / "s"), SQLiteMissQueue(tmp_path / "queue"))
    targets = ["/v1/knowledge/query?q=tent+0", "/v1/knowledge/query?q=tent+1", "/v1/knowledge/product/M1"]
    sizes = [len(body) + len(target.partition("?")[0]) + len(target.partition("?")[2]) + ENTRY_OVERHEAD
             for target, (_, _, body) in zip(targets, _rsgi(app, targets))]
    app.cache = type(app.cache)(sum(sizes))  # room for exactly these three
    first = _rsgi(app, targets)
    later = _rsgi(app, ["/v1/knowledge/query?q=tent+2", "/v1/knowledge/query?unit_id=&q=tent+3",
                        "/v1/knowledge/product/M2", "/v1/knowledge/query?q=Tent+4"])
    assert [json.loads(body)["outcome"] for _, _, body in first + later] == ["hit"] * 7
    # the three kept first stay; the capitalised query (scrubbed, read from SQLite) pushes the oldest out
    assert [key for key in app.cache._bodies] == [(t.partition("?")[0], t.partition("?")[2]) for t in targets[1:]] \
        + [("/v1/knowledge/query", "q=Tent+4")]
