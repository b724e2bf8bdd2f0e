"""One key per query: ingest, KG node ids, the knowledge lookup, `kg query`, serving and the evaluation
agree on it, also for a query that scrubbing changes (issue 11, item 2)."""

import pytest
from helpers.kg_workspace import CANDIDATES, SEARCH, make_workspace

from intentkg.embed.base import load_embedder
from intentkg.kg.build import run_build
from intentkg.kg.canonical import node_id
from intentkg.kg.config import BuildConfig
from intentkg.kg.query import KnowledgeGraph, query_node
from intentkg.knowledge import KnowledgeLookup, LookupConfig
from intentkg.query_key import clean_query, query_key
from intentkg.serve.keys import query_cache_key
from intentkg.serve.tier1 import tier1_items

RAW = "Call 555-867-5309  Winter camping gear"  # as typed: a phone number and a double space
TEXT = "Call [PHONE] Winter camping gear"
KEY = "call [phone] winter camping gear"
OWN = "ice fishing"  # learnt only from RAW's purchase of T1


def test_clean_query_scrubs_then_normalises():
    cleaned = clean_query(RAW)
    assert (cleaned.text, cleaned.key) == (TEXT, KEY)
    assert cleaned.found == (("PHONE", 1),) and cleaned.redactions == 1
    assert query_key(RAW) == KEY
    assert clean_query(RAW, scrub_pii=False).key == "call 555-867-5309 winter camping gear"
    assert clean_query(None).key == "" and clean_query("  ").key == ""


@pytest.mark.parametrize("query", [
    RAW, "mail jane.doe@example.com re  Baby Monitor", "card 4111 1111 1111 1111 refund",
    "ship to 42 Elm Street tent", "ssn 123-45-6789 form", "iPhone 15 Pro Max case", "65 inch TV",
    "  size 10   running shoes ", "vitamin d3 5000 iu",
])
def test_a_key_is_a_fixed_point(query):
    # code that holds a stored key (the KG, the serving cache, the miss queue) passes it back in
    key = query_key(query)
    assert query_key(key) == key
    assert query_key(clean_query(query).text) == key


@pytest.fixture(scope="module")
def pii_kg(tmp_path_factory):
    search = SEARCH + f"{RAW},T1,4\n"
    candidates = CANDIDATES + [(f"q:{KEY}|T1", "used_for_event", OWN, 0.9, [], None)]
    ws = make_workspace(tmp_path_factory.mktemp("pii_kg"), search=search, candidate_spec=candidates)
    run_build(ws, BuildConfig(hierarchy=False))
    return ws


@pytest.fixture(scope="module")
def minilm():
    return load_embedder("all-MiniLM-L6-v2", batch_size=32).encode


def test_ingest_stores_the_key_and_the_scrubbed_text(pii_kg):
    rows = [b for b in pii_kg.read("ingest", "behaviors").to_pylist() if b["left"] == KEY]
    assert len(rows) == 1 and rows[0]["left_text"] == TEXT and rows[0]["pii_redactions"] == 1
    nodes = {n["node_id"]: n for n in pii_kg.read("kg", "nodes").to_pylist()}
    assert query_node(RAW) == node_id("query", KEY) and nodes[query_node(RAW)]["text"] == TEXT
    assert not any("867" in (n["text"] or "") for n in nodes.values())


def test_a_scrubbed_query_finds_its_own_node_everywhere(pii_kg, minilm):
    (facts,) = KnowledgeLookup(pii_kg, LookupConfig(), embed=minilm).for_queries([RAW])
    assert [(f.intention, f.source) for f in facts] == [(OWN, "query")]
    assert [r["intention"] for r in KnowledgeGraph(pii_kg).intentions_for_query(RAW)] == [OWN]
    served = dict(tier1_items(pii_kg))  # the cache the API reads
    assert query_cache_key(RAW) == "q:" + KEY and OWN in served[query_cache_key(RAW)]


def test_a_scrubbed_query_is_left_out_of_its_own_knowledge(pii_kg, minilm):
    lookup = KnowledgeLookup(pii_kg, LookupConfig(min_similarity=0.5), embed=minilm)
    (seen,) = lookup.for_pairs([RAW], ["T1"])
    assert OWN in {f.intention for f in seen.query} and OWN in {f.intention for f in seen.product}
    left_lookup = KnowledgeLookup(pii_kg, LookupConfig(min_similarity=0.5, leave_out_query=True), embed=minilm)
    (left_out,) = left_lookup.for_pairs([RAW], ["T1"])
    # its own node is skipped (it borrows from the other camping query) and its own purchase of T1
    # no longer counts for T1's edges
    assert left_out.query and {f.source for f in left_out.query} == {"query_nearest"}
    assert {f.neighbour.lower() for f in left_out.query} == {"winter camping gear"}
    assert OWN not in {f.intention for f in left_out.query}
    assert left_out.product and OWN not in {f.intention for f in left_out.product}
