"""Sample-ratio mismatch: a chi-square goodness-of-fit test of the units per arm against the planned
split. A failure means assignment or logging is broken, so no effect can be trusted: the read-out stops."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

from intentkg.errors import IntentkgError


@dataclass
class SRMResult:
    counts: dict[str, int]
    expected_share: dict[str, float]
    chi2: float
    p_value: float
    alpha: float

    @property
    def passed(self) -> bool:
        return self.p_value >= self.alpha

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}

    def message(self) -> str:
        seen = ", ".join(f"{arm} {n:,} ({n / max(1, sum(self.counts.values())):.2%})" for arm, n in self.counts.items())
        planned = ", ".join(f"{arm} {share:.2%}" for arm, share in self.expected_share.items())
        return (f"sample ratio mismatch: units per arm {seen} vs planned {planned} "
                f"(chi-square {self.chi2:.2f}, p = {self.p_value:.2g} < {self.alpha}); assignment or exposure "
                f"logging is broken, so the effects are not read out. Check the bucketing, bot filtering and "
                f"which units were logged; if the split was planned differently, set expected_split")


class SampleRatioMismatch(IntentkgError):
    def __init__(self, result: SRMResult):
        self.result = result
        super().__init__(result.message())


def srm_check(variants: np.ndarray, arms: list[str], expected_split: dict[str, float] | None,
              alpha: float) -> SRMResult:
    if expected_split is None:
        expected_split = {arm: 1.0 for arm in arms}
    missing = [arm for arm in arms if arm not in expected_split]
    if missing:
        raise IntentkgError(f"expected_split has no share for arm(s) {missing}; give every arm a share")
    total_share = sum(expected_split[arm] for arm in arms)
    shares = {arm: expected_split[arm] / total_share for arm in arms}
    counts = {arm: int(np.sum(variants == arm)) for arm in arms}
    n = sum(counts.values())
    observed = np.array([counts[a] for a in arms], dtype=float)
    expected = np.array([shares[a] * n for a in arms])
    if n == 0:
        return SRMResult(counts, shares, float("nan"), 0.0, alpha)
    chi2, p_value = stats.chisquare(observed, expected)
    return SRMResult(counts, shares, float(chi2), float(p_value), alpha)
