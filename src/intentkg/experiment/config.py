"""The metrics YAML: ratio metrics, tiers (decision / guardrail / exploratory) and the test settings.

    ratios:
      ctr: {numerator: clicks, denominator: impressions}
    decision: [sales, ctr]          # the corrected family; default: every metric
    guardrails: [latency_ms]        # each tested on its own at alpha
    exploratory: [dwell_s]          # reported, never corrected; default: every other metric
    alpha: 0.05
    correction: holm                # holm | bh | bonferroni
    control: control
    expected_split: {control: 0.5, treatment: 0.5}   # default: equal
    srm_alpha: 0.001

``intentkg experiment prune --out tiers.yaml`` writes this file from historical data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from intentkg.config_file import load_yaml_model

CORRECTIONS = {"holm": "holm", "bh": "fdr_bh", "bonferroni": "bonferroni"}  # our name -> statsmodels multipletests method
FAMILIES = ("decision", "guardrail", "exploratory")


class Ratio(BaseModel):
    model_config = ConfigDict(extra="forbid")
    numerator: str
    denominator: str


class MetricsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ratios: dict[str, Ratio] = Field(default_factory=dict)
    metrics: list[str] | None = None  # default: every numeric column that is not an id, variant or __pre
    decision: list[str] | None = None
    guardrails: list[str] = Field(default_factory=list)
    exploratory: list[str] | None = None
    alpha: float = Field(0.05, gt=0, lt=1)
    correction: Literal["holm", "bh", "bonferroni"] = "holm"
    control: str = "control"
    arms: list[str] | None = None  # the valid variants; default: the keys of expected_split, else control + treatment
    expected_split: dict[str, float] | None = None
    srm_alpha: float = Field(0.001, gt=0, lt=1)

    @field_validator("expected_split")
    @classmethod
    def _positive(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None and (not value or any(v <= 0 for v in value.values())):
            raise ValueError("every share must be > 0, e.g. {control: 0.9, treatment: 0.1}")
        return value

    def valid_arms(self) -> list[str]:
        if self.arms:
            names = list(self.arms)
        elif self.expected_split:
            names = list(self.expected_split)
        else:
            names = [self.control, "treatment"]
        return names if self.control in names else [self.control, *names]

    def family_of(self, metrics: list[str]) -> dict[str, str]:
        """Each metric's family. Without tiers every metric is a decision metric (the whole family is
        corrected); with ``decision`` given, metrics not listed anywhere are exploratory."""
        guard = set(self.guardrails)
        explicit_exploratory = set(self.exploratory or [])
        decision = set(metrics) - guard - explicit_exploratory if self.decision is None else set(self.decision)
        out = {}
        for name in metrics:
            out[name] = "guardrail" if name in guard else ("decision" if name in decision else "exploratory")
        return out


def load_metrics_config(path: str | Path | None) -> MetricsConfig:
    if path is None:
        return MetricsConfig()
    return load_yaml_model(path, MetricsConfig, docs="docs/experiment.md")
