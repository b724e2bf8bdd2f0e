"""The filter stage: rules, completeness, similarity, dedup and critic scores for every candidate.

Scores are stored; thresholds (an operating point) are applied late by :mod:`intentkg.filter.view`.
See docs/filter.md.

Names are loaded on first use, so the configuration and the view (core dependencies only) import
without the filter extra that scoring needs (scipy, datasketch, rapidfuzz, sentence-transformers).
"""

from importlib import import_module

_HOMES = {"FilterConfig": "config", "Thresholds": "config", "load_config": "config",
          "STAGE": "view", "iter_view": "view", "verdicts": "view", "write_view": "view",
          "load_operating_point": "stage", "run_filter": "stage"}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'intentkg.filter' has no attribute {name!r}")
    value = getattr(import_module(f"intentkg.filter.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
