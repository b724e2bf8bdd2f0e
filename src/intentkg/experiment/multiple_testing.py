"""Corrections over the decision family only (statsmodels ``multipletests``):

- decision metrics: Holm (family-wise error), Benjamini-Hochberg (false discovery rate) or plain
  Bonferroni over every (decision metric, treatment arm) comparison; adjusted intervals at level
  1 - alpha/m for Holm and Bonferroni (Bonferroni intervals, which contain the Holm-compatible
  ones) and 1 - R alpha/m for BH
  (Benjamini-Yekutieli false-coverage-rate intervals, R = number of rejections, at least 1);
- guardrails: each tested on its own at alpha (a missed harm costs more than a false alarm);
- exploratory: nominal p-values and intervals, never corrected, never a decision.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from statsmodels.stats.multitest import multipletests

from intentkg.experiment.config import CORRECTIONS
from intentkg.experiment.effect import Effect


@dataclass
class Family:
    method: str          # holm | bh
    alpha: float
    size: int            # comparisons in the decision family
    ci_level: float      # the adjusted interval level used for decision metrics
    decision: list[str]
    guardrails: list[str]
    exploratory: list[str]

    def describe(self) -> str:
        name = {"holm": "Holm (family-wise error)", "bonferroni": "Bonferroni (family-wise error)",
                "bh": "Benjamini-Hochberg (false discovery rate)"}[self.method]
        return (f"decision family: {self.size} comparison(s) over {len(self.decision)} metric(s), {name} at "
                f"alpha {self.alpha}, adjusted intervals at {self.ci_level:.2%}; guardrails ({len(self.guardrails)}) "
                f"each at alpha {self.alpha}; exploratory ({len(self.exploratory)}) nominal, not corrected")

    def as_dict(self) -> dict:
        return asdict(self)


def correct(effects: list[Effect], families: dict[str, str], method: str, alpha: float) -> Family:
    """Set family, p_adjusted, significant and ci_level on every effect (in place)."""
    for effect in effects:
        effect.family = families[effect.metric]
    decision = [e for e in effects if e.family == "decision"]
    level = 1 - alpha
    if decision:
        reject, adjusted, _, _ = multipletests([e.p_value for e in decision], alpha=alpha, method=CORRECTIONS[method])
        m = len(decision)
        rejections = int(reject.sum())
        level = 1 - (max(rejections, 1) * alpha / m if method == "bh" else alpha / m)
        for effect, rej, p_adj in zip(decision, reject, adjusted):
            effect.p_adjusted, effect.significant, effect.ci_level = float(p_adj), bool(rej), level
    for effect in effects:
        if effect.family == "guardrail":
            effect.p_adjusted, effect.significant, effect.ci_level = effect.p_value, effect.p_value < alpha, 1 - alpha
        elif effect.family == "exploratory":
            effect.p_adjusted, effect.significant, effect.ci_level = None, effect.p_value < alpha, 1 - alpha

    def names(family: str) -> list[str]:
        return sorted({m for m, f in families.items() if f == family})

    return Family(method=method, alpha=alpha, size=len(decision), ci_level=level, decision=names("decision"),
                  guardrails=names("guardrail"), exploratory=names("exploratory"))
