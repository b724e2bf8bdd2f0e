"""The HTTP API on a real uvicorn server: hits, misses queued then answered by refresh, the
embedding-nearest fallback precomputed, pair text identical to the lookup's, 4xx on bad parameters,
metrics, OpenAPI."""

from __future__ import annotations

import httpx
import pytest
from helpers.kg_workspace import PRODUCTS, make_workspace

from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig
from intentkg.knowledge.lookup import KnowledgeLookup, LookupConfig
from intentkg.knowledge.text import KnowledgeTemplate
from intentkg.serve.app import create_app
from intentkg.serve.keys import encode
from intentkg.serve.refresh import precompute, refresh
from intentkg.serve.runtime import open_store
from intentkg.serve.tier1 import tier1_items

from .conftest import ServerThread


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    # T2 is in the catalogue but no behaviour names it: no facts of its own
    ws = make_workspace(tmp_path_factory.mktemp("serve"), products=PRODUCTS + "T2,Trailblazer 2-Season Dome Tent,Camping,tent\n")
    run_build(ws, BuildConfig(hierarchy=False))
    store, writer, queue = open_store(ws.root)
    precompute(writer, tier1_items(ws))
    store.check_every = 0
    app = create_app(store, queue, flush_every=0.05)
    with ServerThread(app) as server:
        yield ws, server, writer, queue


def test_hit_for_query_and_product(served):
    ws, server, _, _ = served
    r = httpx.get(f"{server.url}/v1/knowledge/query", params={"q": "Winter  Camping gear"})
    assert r.status_code == 200
    body = r.json()
    assert body["outcome"] == "hit" and body["entry"]["source"] == "tier1"
    assert "winter camping" in {i["intention"].lower() for i in body["entry"]["intentions"]}
    product = httpx.get(f"{server.url}/v1/knowledge/product/M1").json()
    assert product["outcome"] == "hit" and product["entry"]["intentions"]


def test_pair_text_is_the_evaluation_text(served):
    ws, server, _, _ = served
    body = httpx.get(f"{server.url}/v1/knowledge/pair", params={"q": "winter camping gear", "product_id": "M1"}).json()
    lookup = KnowledgeLookup(ws, LookupConfig(), embed=KnowledgeLookup.default_embed(ws))
    pair = lookup.for_pairs(["winter camping gear"], ["M1"], ["Arctic Self-Inflating Air Mattress"])[0]
    assert body["text"] == KnowledgeTemplate().pair_text(pair) != ""


def test_a_product_without_facts_gets_its_nearest_products_knowledge_precomputed(served):
    """Fails on the old tier 1: products outside the KG were never precomputed (no nearest fallback)."""
    ws, server, _, _ = served
    body = httpx.get(f"{server.url}/v1/knowledge/product/T2").json()
    assert body["outcome"] == "hit", body
    sources = {i["source"] for i in body["entry"]["intentions"]}
    assert sources == {"product_nearest"} and {i["neighbour"] for i in body["entry"]["intentions"]} <= {
        "Trailblazer 4-Season Dome Tent", "Summit 0F Mummy Sleeping Bag", "Arctic Self-Inflating Air Mattress"}


def test_miss_is_answered_at_once_queued_and_hit_after_refresh(served):
    _, server, writer, queue = served
    first = httpx.get(f"{server.url}/v1/knowledge/query", params={"q": "camping gear for winter trips"}).json()
    assert first["outcome"] == "miss" and first["entry"] is None and first["queued"]
    unknown = httpx.get(f"{server.url}/v1/knowledge/query", params={"q": "jane@example.com garden hose"}).json()
    assert unknown["outcome"] == "miss" and unknown["entry"] is None and unknown["key"] == "q:[email] garden hose"
    queue.flush()
    assert {k for k, _ in queue.pending()} >= {"q:camping gear for winter trips", "q:[email] garden hose"}

    def fill(keys):
        return {k: encode("query", k[2:], [{"relation": "used_for_event", "intention": "winter camping",
                                              "score": 1.0, "source": "query_on_demand"}], "tier2")
                for k in keys if "winter" in k}

    result = refresh(writer, queue, fill)
    assert result.filled >= 1 and result.empty >= 1 and queue.pending() == []
    again = httpx.get(f"{server.url}/v1/knowledge/query", params={"q": "camping gear for winter trips"}).json()
    assert again["outcome"] == "hit" and again["entry"]["source"] == "tier2"
    hose = httpx.get(f"{server.url}/v1/knowledge/query", params={"q": "jane@example.com garden hose"}).json()
    assert hose["outcome"] == "hit" and hose["entry"]["intentions"] == []
    # tier-1 entries were carried into the new snapshot
    assert httpx.get(f"{server.url}/v1/knowledge/product/M1").json()["outcome"] == "hit"


def test_bad_parameters_are_4xx_with_a_message(served):
    _, server, _, _ = served
    for params in ({"q": "   "}, {"q": "x" * 501}):
        r = httpx.get(f"{server.url}/v1/knowledge/query", params=params)
        assert r.status_code == 400 and r.json()["detail"]
    assert httpx.get(f"{server.url}/v1/knowledge/query").status_code == 422
    r = httpx.get(f"{server.url}/v1/knowledge/product/" + "bad%20id%3Cscript%3E")
    assert r.status_code == 400 and "product_id" in r.json()["detail"]


def test_health_metrics_and_openapi(served):
    _, server, _, _ = served
    httpx.get(f"{server.url}/v1/knowledge/query", params={"q": "winter camping gear"})
    assert httpx.get(f"{server.url}/health").json()["status"] == "ok"
    metrics = httpx.get(f"{server.url}/metrics").json()
    assert metrics["lookups"] >= 1 and 0 <= metrics["hit_rate"] <= 1
    assert metrics["latency_ms_histogram"]["+Inf"] >= metrics["lookups"]
    assert "intentkg_request_latency_ms_bucket" in httpx.get(f"{server.url}/metrics/prometheus").text
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert {"/v1/knowledge/query", "/v1/knowledge/pair", "/health", "/metrics"} <= set(paths)
