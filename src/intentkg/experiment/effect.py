"""One comparison's result (a metric, one treatment arm against control) and its interval at any level."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from scipy import stats


@dataclass
class Effect:
    metric: str
    arm: str
    kind: str                      # "mean" (Welch) or "ratio" (delta method)
    n_control: int
    n_treatment: int
    control_value: float           # mean (or ratio) in control, CUPED-adjusted when cuped is set
    treatment_value: float
    effect: float                  # treatment - control
    se: float
    df: float | None               # Welch degrees of freedom; None for the normal (delta-method) test
    p_value: float
    relative_effect: float | None  # effect / control_value; None when control_value is 0
    relative_se: float | None
    cuped: float | None = None     # variance reduction (0..1) from the pre-period covariate, or None
    n_missing: int = 0             # units quarantined out of this metric (missing or bad values)
    family: str = "decision"
    p_adjusted: float | None = None
    significant: bool | None = None
    ci_level: float = 0.95         # the level of ci_low/ci_high: 1 - alpha, or the adjusted level

    def quantile(self, level: float) -> float:
        tail = 1 - (1 - level) / 2
        return float(stats.t.ppf(tail, self.df)) if self.df else float(stats.norm.ppf(tail))

    def interval(self, level: float) -> tuple[float, float]:
        half = self.quantile(level) * self.se
        return self.effect - half, self.effect + half

    def relative_interval(self, level: float) -> tuple[float | None, float | None]:
        if self.relative_effect is None or self.relative_se is None:
            return None, None
        half = self.quantile(level) * self.relative_se
        return self.relative_effect - half, self.relative_effect + half

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ci_low"], out["ci_high"] = self.interval(self.ci_level)
        out["relative_ci_low"], out["relative_ci_high"] = self.relative_interval(self.ci_level)
        return out


def relative_se(mean_t: float, var_mean_t: float, mean_c: float, var_mean_c: float) -> float | None:
    """Delta-method standard error of mean_t / mean_c - 1 (independent arms)."""
    if mean_c == 0:
        return None
    return float(((var_mean_t / mean_c**2) + (mean_t**2 * var_mean_c / mean_c**4)) ** 0.5)
