"""intentkg: shopping behaviour -> commonsense knowledge graph of purchase intentions."""

__version__ = "0.1.0"
