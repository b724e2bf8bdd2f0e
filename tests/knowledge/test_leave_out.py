"""Leave-own-out split for a cache (knowledge/leave_out.py): for every logged query and every
catalogue product, the left-out query entry plus the left-out product entry (or, where none was
made, the plain product entry) is exactly what ``for_pairs`` gives with ``leave_out_query`` on."""

import pytest

from intentkg.knowledge import KnowledgeLookup, LookupConfig
from intentkg.knowledge.leave_out import left_out_entries


def test_split_entries_rebuild_every_left_out_pair(near_kg, minilm):
    plain = KnowledgeLookup(near_kg, LookupConfig(), embed=minilm)
    catalogue = plain.catalogue()
    queries = sorted(plain.query_behaviors(["winter camping gear", "newborn essentials",
                                            "camping gear for winter trips"]))
    assert len(queries) == 3
    entries = {q: (facts, by_product) for q, facts, by_product in left_out_entries(plain, queries, catalogue)}
    product_ids, titles = [p for p, _ in catalogue], [t for _, t in catalogue]
    plain_products = dict(zip(product_ids, plain.for_products(product_ids, titles)))
    expected = KnowledgeLookup(near_kg, LookupConfig(leave_out_query=True), embed=minilm)
    stored = 0

    def same(a, b):  # cosines of texts embedded in other batches differ in the 7th digit
        assert [(f.relation, f.intention_id, f.source, f.neighbour) for f in a] == \
            [(f.relation, f.intention_id, f.source, f.neighbour) for f in b]
        assert [f.score for f in a] == pytest.approx([f.score for f in b], rel=1e-5)

    for q in queries:
        truth = expected.for_pairs([q] * len(product_ids), product_ids, titles)
        facts, by_product = entries[q]
        stored += len(by_product)
        for p, pair in zip(product_ids, truth):
            same(facts, pair.query)
            same(by_product.get(p, plain_products[p]), pair.product)
    # only the pairs whose product side changes are stored, and there are some
    assert 0 < stored < len(queries) * len(product_ids)
    assert "S1" in entries["winter camping gear"][1]  # S1's snowy-mountains edge came only from this query
