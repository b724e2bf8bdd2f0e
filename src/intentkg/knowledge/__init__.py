"""Knowledge for queries, products and pairs: KG lookup with a nearest-head fallback, on-demand
generation for unseen queries, and the text template that puts it into a model's input.

Shared by the ESCI evaluation (intentkg.eval) and serving. See docs/knowledge.md.
"""

from intentkg.knowledge.facts import SOURCES, Fact, PairKnowledge, best_first
from intentkg.knowledge.lookup import KnowledgeLookup, LookupConfig
from intentkg.knowledge.text import KnowledgeTemplate, fact_text, with_knowledge

__all__ = ["SOURCES", "Fact", "KnowledgeLookup", "KnowledgeTemplate", "LookupConfig", "PairKnowledge",
           "best_first", "fact_text", "with_knowledge"]
