"""The one ranking of a head's intention edges, for every reader of the KG (the knowledge lookup
behind evaluation and serving, ``kg query``, the explorer):

    score = plausibility x (1 + ln support)     (support = distinct behaviours; no critic: 0.5)

best first, ties by relation, then intention text. Every reader ranks in Python with
:func:`edge_score`, over the rows the one point lookup (:mod:`intentkg.kg.head_edges`) returns.
"""

from __future__ import annotations

import math

UNSCORED_PLAUSIBILITY = 0.5


def edge_score(plausibility: float | None, support: int) -> float:
    p = UNSCORED_PLAUSIBILITY if plausibility is None else float(plausibility)
    return p * (1.0 + math.log(max(support, 1)))
