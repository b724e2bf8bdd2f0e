"""The guard's stop rule and checkpoint choice, as plain functions of the recorded curve.

One point of the curve per evaluation (``step``, ``reward`` = mean reward on held-out behaviours,
``agreement`` = the held-out agreement, ``heldout_critic`` = the held-out critic's mean score).

- :func:`hacking_at`: the first evaluation at which the reward rose (by more than ``tolerance``)
  while the agreement fell (by more than ``tolerance``) over each of the last ``patience``
  evaluations: the reward is being optimised past what the held-out measures confirm.
  A negative ``tolerance`` counts any move, flat ones included (it forces a stop: tests use it).
- :func:`best_point`: the evaluation with the highest held-out critic score (the earliest on ties).
"""

from __future__ import annotations

import math


def _value(point: dict, key: str) -> float | None:
    value = point.get(key)
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def diverged(before: dict, after: dict, tolerance: float = 0.0) -> bool:
    """Reward up and agreement down between two evaluations."""
    r0, r1 = _value(before, "reward"), _value(after, "reward")
    a0, a1 = _value(before, "agreement"), _value(after, "agreement")
    if None in (r0, r1):
        return False
    if None in (a0, a1):  # no agreement measured (e.g. constant scores): only a forced rule counts it
        return tolerance < 0 and r1 - r0 > tolerance
    return r1 - r0 > tolerance and a1 - a0 < -tolerance


def hacking_at(curve: list[dict], patience: int, tolerance: float = 0.0) -> int | None:
    """Index of the evaluation at which the rule fires, or None."""
    run = 0
    for i in range(1, len(curve)):
        run = run + 1 if diverged(curve[i - 1], curve[i], tolerance) else 0
        if run >= patience:
            return i
    return None


def best_point(curve: list[dict], key: str = "heldout_critic") -> int | None:
    best, index = None, None
    for i, point in enumerate(curve):
        value = _value(point, key)
        if value is not None and (best is None or value > best):
            best, index = value, i
    return index
