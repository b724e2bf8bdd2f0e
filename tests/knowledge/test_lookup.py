"""The knowledge lookup on a small real KG, with the bundled MiniLM as the nearest policy's embedding."""

from intentkg.knowledge import KnowledgeLookup, LookupConfig, PairKnowledge

from .conftest import NEAR_QUERY


def test_exact_query_and_product_facts_best_first(built_kg, minilm):
    lookup = KnowledgeLookup(built_kg, LookupConfig(), embed=minilm)
    (query,) = lookup.for_queries(["Winter  CAMPING gear"])  # normalised like ingest stores queries
    assert [f.intention.lower() for f in query] == ["winter camping", "snowy mountains"]
    assert {f.source for f in query} == {"query"}
    assert query[0].score >= query[1].score
    mattress, unknown = lookup.for_products(["M1", "NOPE"])
    assert mattress[0].intention.lower() == "winter camping" and mattress[0].source == "product"
    assert unknown == []  # no title given: no nearest fallback for products


def test_nearest_fallback_borrows_from_similar_heads(built_kg, minilm):
    """With the bundled MiniLM (the bag-of-words stand-in matched shared words, so it could not tell whether
    the real embedding finds the neighbour a person would pick)."""
    lookup = KnowledgeLookup(built_kg, LookupConfig(min_similarity=0.3), embed=minilm)
    (query,) = lookup.for_queries(["camping gear for winter trips"])
    assert query and {f.source for f in query} == {"query_nearest"}
    assert query[0].neighbour.lower() == "winter camping gear"
    (baby,) = lookup.for_queries(["things a newborn needs"])  # no word shared with "newborn essentials" but one
    assert baby and {f.neighbour.lower() for f in baby} == {"newborn essentials"}
    (product,) = lookup.for_products(["X9"], ["Arctic Self-Inflating Air Mattress Double"])
    assert product[0].source == "product_nearest" and product[0].neighbour.startswith("Arctic")
    (lotion,) = lookup.for_products(["X8"], ["mild lotion for a baby's delicate skin"])
    assert lotion and lotion[0].neighbour == "Gentle Baby Lotion for Sensitive Skin"
    strict = KnowledgeLookup(built_kg, LookupConfig(min_similarity=0.99), embed=minilm)
    assert strict.for_queries(["camping gear for winter trips"]) == [[]]
    off = KnowledgeLookup(built_kg, LookupConfig(nearest=False), embed=minilm)
    assert off.for_queries(["camping gear for winter trips"]) == [[]]


def test_hidden_queries_lose_their_own_edges(built_kg):
    visible = KnowledgeLookup(built_kg, LookupConfig(nearest=False))
    hidden = KnowledgeLookup(built_kg, LookupConfig(nearest=False, hide_queries=["winter camping gear"]))
    assert hidden.stats()["hidden_behaviors"] == 2
    assert visible.for_queries(["winter camping gear"])[0] and hidden.for_queries(["winter camping gear"]) == [[]]
    # S1's snowy-mountains edge came only from the hidden query; its co-buy edge stays
    before = {f.intention for f in visible.for_products(["S1"])[0]}
    after = {f.intention for f in hidden.for_products(["S1"])[0]}
    assert "snowy mountains" in before and "snowy mountains" not in after and after
    # support of a product edge shrinks by the hidden behaviours
    m_before = {f.intention: f.score for f in visible.for_products(["M1"])[0]}
    m_after = {f.intention: f.score for f in hidden.for_products(["M1"])[0]}
    assert m_after["winter camping"] < m_before["winter camping"]


def test_a_hidden_query_borrows_from_another_query_never_from_itself(near_kg, minilm):
    """Its own node (cosine 1) would win if hiding left its edges; the near query (0.93) answers."""
    visible = KnowledgeLookup(near_kg, LookupConfig(), embed=minilm)
    assert {f.source for f in visible.for_queries(["winter camping gear"])[0]} == {"query"}
    hidden = KnowledgeLookup(near_kg, LookupConfig(hide_queries=["winter camping gear"]), embed=minilm)
    (facts,) = hidden.for_queries(["winter camping gear"])
    assert facts and {f.source for f in facts} == {"query_nearest"}
    assert {f.neighbour for f in facts} == {NEAR_QUERY} and "frozen lakes" in {f.intention for f in facts}


def test_pairs(built_kg, minilm):
    lookup = KnowledgeLookup(built_kg, LookupConfig(), embed=minilm)
    pairs = lookup.for_pairs(["winter camping gear", "winter camping gear", "zzz qqq"], ["M1", "B1", "M1"],
                             ["Arctic Self-Inflating Air Mattress", "Cozy Newborn Swaddle 3 Pack", "x"])
    assert all(isinstance(p, PairKnowledge) for p in pairs)
    assert pairs[0].sources == {"query", "product"}
    # B1's own edges: co-bought with B2, and bought for "newborn essentials" ("newborn baby" merges
    # into "newborn babies")
    assert {f.intention.lower() for f in pairs[1].product} == {"newborn babies", "keep the baby warm"}
    assert pairs[2].query == [] and pairs[2].sources == {"product"}  # no KG query is near "zzz qqq"
    assert not PairKnowledge()


def test_leave_query_out_per_pair(near_kg, minilm):
    plain = KnowledgeLookup(near_kg, LookupConfig(), embed=minilm)
    assert len(plain.query_behaviors(["Winter camping gear"])["winter camping gear"]) == 2
    (seen,) = plain.for_pairs(["winter camping gear"], ["S1"])
    left_out = KnowledgeLookup(near_kg, LookupConfig(leave_out_query=True), embed=minilm)
    unseen, other = left_out.for_pairs(["winter camping gear", "newborn essentials"], ["S1", "S1"])
    assert {f.source for f in seen.query} == {"query"}
    # its own node (cosine 1, with facts) may not answer nor lend itself: the near query answers
    assert unseen.query and {f.source for f in unseen.query} == {"query_nearest"}
    assert {f.neighbour for f in unseen.query} == {NEAR_QUERY}
    # S1's snowy-mountains edge came only from this query: gone for this pair, kept for another query's pair
    assert "snowy mountains" in {f.intention for f in seen.product}
    assert "snowy mountains" not in {f.intention for f in unseen.product}
    assert "snowy mountains" in {f.intention for f in other.product}
