"""The filter stage: rules, completeness, similarity, dedup and critic scores for every candidate.

Scores are stored; thresholds (an operating point) are applied late by :mod:`intentkg.filter.view`.
See docs/filter.md.

Names are loaded on first use, so the configuration and the view (core dependencies only) import
without the filter extra that scoring needs (scipy, datasketch, rapidfuzz, sentence-transformers).
"""

from importlib import import_module

_HOMES = {"FilterConfig": "filter.config", "Thresholds": "filter.config", "load_config": "filter.config",
          "STAGE": "filter.view", "iter_view": "filter.view", "verdicts": "filter.view", "write_view": "filter.view",
          "run_filter": "filter.stage", "load_operating_point": "operating_point"}
_ATTRS = {"load_operating_point": "saved"}  # the workspace's operating point lives in intentkg.operating_point

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'intentkg.filter' has no attribute {name!r}")
    value = getattr(import_module(f"intentkg.{_HOMES[name]}"), _ATTRS.get(name, name))
    globals()[name] = value
    return value
