"""Knowledge as text: the template that puts KG facts into a model's input (docs/knowledge.md).

    query intent: used for event winter camping, customer wants stay warm; product: used for event winter camping; shared: winter camping

- A fact is ``<relation phrase> <intention>``; the phrase is the relation name with ``_`` as a
  space, except the customer-side relations (``xWant`` -> "customer wants", ``xIs_a`` ->
  "customer is a", ``xInterested_in`` -> "customer interested in"); a word repeated at the seam
  is said once ("is a" + "a stocking stuffer" -> "is a stocking stuffer").
- Each side keeps its ``top_k`` best facts (score, then relation and text: deterministic).
- For a pair, product facts whose intention (any relation) the query also has come first, since those are the
  ones that say why this product fits this query, and a third section names those shared
  intentions (the KG path query -> intention <- product): ``shared: winter camping``.
- A side without facts is left out; a pair without any fact gets ``""``.
"""

from __future__ import annotations

from dataclasses import dataclass

from intentkg.knowledge.facts import Fact, PairKnowledge, best_first

RELATION_PHRASES = {
    "xWant": "customer wants",
    "xIs_a": "customer is a",
    "xInterested_in": "customer interested in",
    "xwant": "customer wants",
    "xis_a": "customer is a",
    "xinterested_in": "customer interested in",
}
QUERY_LABEL = "query intent"
PRODUCT_LABEL = "product"
SHARED_LABEL = "shared"
SEP = " [SEP] "  # between query, product and knowledge in a joint input


def relation_phrase(relation: str) -> str:
    return RELATION_PHRASES.get(relation, relation.replace("_", " ").strip())


def fact_text(fact: Fact) -> str:
    """``<relation phrase> <intention>``; a word the two share at the seam is said once ("is a" +
    "a stocking stuffer" -> "is a stocking stuffer")."""
    phrase, words = relation_phrase(fact.relation), fact.intention.split()
    if words and phrase.split() and phrase.split()[-1].lower() == words[0].lower():
        words = words[1:]
    return f"{phrase} {' '.join(words)}".strip()


@dataclass(frozen=True)
class KnowledgeTemplate:
    top_k: int = 5
    query_label: str = QUERY_LABEL
    product_label: str = PRODUCT_LABEL
    shared_label: str | None = SHARED_LABEL  # None: no shared section

    def _side(self, label: str, facts: list[Fact]) -> str:
        if not facts or self.top_k <= 0:
            return ""
        return f"{label}: " + ", ".join(fact_text(f) for f in facts[: self.top_k])

    def query_text(self, facts: list[Fact]) -> str:
        """The query side alone (a bi-encoder's query input)."""
        return self._side(self.query_label, best_first(facts))

    def product_text(self, facts: list[Fact]) -> str:
        """The product side alone (a bi-encoder's product input)."""
        return self._side(self.product_label, best_first(facts))

    def pair_text(self, knowledge: PairKnowledge) -> str:
        """Both sides, product facts shared with the query first (a cross-encoder's input)."""
        query = best_first(knowledge.query)
        shared = {f.key[1] for f in query[: self.top_k]}
        product = best_first(knowledge.product)
        product = [f for f in product if f.key[1] in shared] + [f for f in product if f.key[1] not in shared]
        parts = [self._side(self.query_label, query), self._side(self.product_label, product)]
        if self.shared_label and self.top_k > 0:
            both = list(dict.fromkeys(" ".join(f.intention.split()) for f in product[: self.top_k]
                                      if f.key[1] in shared))
            if both:
                parts.append(f"{self.shared_label}: " + ", ".join(both))
        return "; ".join(p for p in parts if p)


def with_knowledge(text: str, knowledge: str) -> str:
    """``text [SEP] knowledge``, or ``text`` unchanged when there is no knowledge."""
    return f"{text}{SEP}{knowledge}" if knowledge else text
