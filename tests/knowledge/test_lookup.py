from intentkg.knowledge import KnowledgeLookup, LookupConfig, PairKnowledge

from .conftest import word_embed


def test_exact_query_and_product_facts_best_first(built_kg):
    lookup = KnowledgeLookup(built_kg, LookupConfig(), embed=word_embed)
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
    # the hidden query's node can no longer answer as a nearest neighbour of itself
    near = KnowledgeLookup(built_kg, LookupConfig(min_similarity=0.3, hide_queries=["winter camping gear"]),
                           embed=word_embed)
    assert all(f.neighbour.lower() != "winter camping gear" for f in near.for_queries(["winter camping gear"])[0])


def test_pairs(built_kg):
    lookup = KnowledgeLookup(built_kg, LookupConfig(), embed=word_embed)
    pairs = lookup.for_pairs(["winter camping gear", "winter camping gear", "zzz qqq"], ["M1", "B1", "M1"],
                             ["Arctic Self-Inflating Air Mattress", "Cozy Newborn Swaddle 3 Pack", "x"])
    assert all(isinstance(p, PairKnowledge) for p in pairs)
    assert pairs[0].sources == {"query", "product"}
    assert pairs[2].query == [] and pairs[2].sources == {"product"}
    assert not PairKnowledge()


def test_leave_query_out_per_pair(built_kg):
    lookup = KnowledgeLookup(built_kg, LookupConfig(min_similarity=0.3), embed=word_embed)
    assert len(lookup.query_behaviors(["Winter camping gear"])["winter camping gear"]) == 2
    (seen,) = lookup.for_pairs(["winter camping gear"], ["S1"], leave_query_out=False)
    unseen, other = lookup.for_pairs(["winter camping gear", "newborn essentials"], ["S1", "S1"],
                                     leave_query_out=True)
    assert {f.source for f in seen.query} == {"query"}
    # its own node may not answer, nor lend itself as a neighbour
    assert all(f.source == "query_nearest" and f.neighbour.lower() != "winter camping gear" for f in unseen.query)
    # S1's snowy-mountains edge came only from this query: gone for this pair, kept for another query's pair
    assert "snowy mountains" in {f.intention for f in seen.product}
    assert "snowy mountains" not in {f.intention for f in unseen.product}
    assert "snowy mountains" in {f.intention for f in other.product}
