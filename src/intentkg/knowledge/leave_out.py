"""Leave-own-out knowledge for a cache keyed by query or by product (``serve precompute
--leave-out-query``): what :meth:`KnowledgeLookup.for_pairs` gives with
``LookupConfig(leave_out_query=True)``, split so that a pair answer is two cache reads.

For a logged query q, the leave-own-out knowledge of a pair (q, p) differs from the plain lookup in
two places only:

- q's side: the facts of q's nearest *other* queries (``for_queries(..., leave_out=True)``): one
  entry per query;
- p's side, only where p's facts count one of q's behaviours: the products whose edges q's
  behaviours support, and the products without facts of their own that borrow from one of those.
  Every other product's facts hold nothing of q's, so its plain entry is already the left-out one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Sequence

import pyarrow as pa

from intentkg.knowledge.facts import Fact
from intentkg.knowledge.lookup import KnowledgeLookup


def _supported_products(lookup: KnowledgeLookup, own: dict[str, frozenset[str]]) -> dict[str, set[str]]:
    """query key -> product heads with an edge that one of the query's behaviours supports."""
    rows = [(q, b) for q, behaviors in own.items() for b in behaviors if b not in lookup.hidden]
    if not rows:
        return {}
    found = lookup.edges.supported_by("product", pa.table({"q": [r[0] for r in rows], "b": [r[1] for r in rows]}))
    out: dict[str, set[str]] = {}
    for q, head in found:
        out.setdefault(q, set()).add(head)
    return out


def left_out_entries(lookup: KnowledgeLookup, queries: Sequence[str], catalogue: Sequence[tuple[str, str]]
                     ) -> Iterator[tuple[str, list[Fact], dict[str, list[Fact]]]]:
    """(query key, its left-out facts, {product id: that product's facts without the query's
    behaviours}) per query, for the products whose knowledge the query's behaviours change.
    ``catalogue``: (product id, title) of every product a pair may name."""
    own = lookup.query_behaviors(queries)
    keys = sorted(own)
    titles = dict(catalogue)
    supported = _supported_products(lookup, own)
    with_facts = {f"product:{p}" for p, facts in zip(titles, lookup.for_products(list(titles))) if facts}
    borrowers = [(p, t) for p, t in titles.items() if t and f"product:{p}" not in with_facts]
    lends_to: dict[str, list[str]] = {}  # product head -> products without facts that borrow from it
    for (product_id, _), heads in zip(borrowers, lookup.nearest_heads("product", [t for _, t in borrowers])):
        for head in heads:
            lends_to.setdefault(head, []).append(product_id)
    pairs = []  # (query key, product id): the pairs whose product side changes
    for q in keys:
        heads = supported.get(q, set())
        changed = {h[len("product:"):] for h in heads} | {p for h in heads for p in lends_to.get(h, [])}
        pairs.extend((q, p) for p in sorted(changed) if p in titles)
    product_facts = lookup.for_products([p for _, p in pairs], [titles[p] for _, p in pairs],
                                        [own[q] for q, _ in pairs]) if pairs else []
    by_query: dict[str, dict[str, list[Fact]]] = {}
    for (q, p), facts in zip(pairs, product_facts):
        by_query.setdefault(q, {})[p] = facts
    for q, facts in zip(keys, lookup.for_queries(keys, leave_out=True)):
        yield q, facts, by_query.get(q, {})
