"""The knowledge text for a (query, product) pair, built from two cached entries with the same
template the ESCI evaluation injects (:class:`intentkg.knowledge.text.KnowledgeTemplate`)."""

from __future__ import annotations

from typing import Any

from intentkg.knowledge.facts import Fact, PairKnowledge
from intentkg.knowledge.text import KnowledgeTemplate

TEMPLATE = KnowledgeTemplate()


def facts_of(value: dict[str, Any] | None) -> list[Fact]:
    if not value:
        return []
    fields = Fact.__dataclass_fields__
    return [Fact(**{k: v for k, v in item.items() if k in fields}) for item in value.get("intentions", [])]


def pair_text(query_value: dict[str, Any] | None, product_value: dict[str, Any] | None) -> str:
    return TEMPLATE.pair_text(PairKnowledge(facts_of(query_value), facts_of(product_value)))
