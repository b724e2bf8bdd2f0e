"""The one ranking of a head's intention edges, for every reader of the KG (the knowledge lookup
behind evaluation and serving, ``kg query``, the explorer):

    score = plausibility x (1 + ln support)     (support = distinct behaviours; no critic: 0.5)

best first, ties by relation, then intention text. :func:`edge_score` is the Python form,
:func:`score_sql` the same expression for DuckDB.
"""

from __future__ import annotations

import math

UNSCORED_PLAUSIBILITY = 0.5


def edge_score(plausibility: float | None, support: int) -> float:
    p = UNSCORED_PLAUSIBILITY if plausibility is None else float(plausibility)
    return p * (1.0 + math.log(max(support, 1)))


def score_sql(plausibility: str = "plausibility", support: str = "support") -> str:
    return f"(coalesce({plausibility}, {UNSCORED_PLAUSIBILITY}) * (1 + ln(greatest({support}, 1))))"
