"""The filter stage: rules, completeness, similarity, dedup and critic scores for every candidate.

Scores are stored; thresholds (an operating point) are applied late by :mod:`intentkg.filter.view`.
See docs/filter.md.
"""

from intentkg.filter.config import FilterConfig, Thresholds, load_config
from intentkg.filter.stage import STAGE, load_operating_point, run_filter
from intentkg.filter.view import iter_view, verdicts, write_view

__all__ = ["STAGE", "FilterConfig", "Thresholds", "iter_view", "load_config", "load_operating_point",
           "run_filter", "verdicts", "write_view"]
