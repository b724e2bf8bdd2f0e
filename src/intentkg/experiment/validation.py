"""Validation by simulation: detection power and false discoveries with every metric in the decision
family vs the pruned set (one representative per cluster, found by :func:`prune` on simulated A/A
history), under Bonferroni, Holm and Benjamini-Hochberg, over many seeded experiments; with the
theoretical per-metric power ``P(|Z + lambda| > z(1 - alpha / 2m))`` to compare against.

Counted per experiment and method:
- metric power: share of truly affected decision metrics declared significant;
- effect detection: share of truly affected groups (the true effects) with at least one significant
  decision metric;
- false discoveries: significant decision metrics without a true effect; FWER = share of experiments
  with at least one, FDR = mean of false / max(1, significant).
"""

from __future__ import annotations

import copy
import gc
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from intentkg.experiment.analyze import metric_effect
from intentkg.experiment.multiple_testing import correct
from intentkg.experiment.prune import prune
from intentkg.experiment.simulate import Design, simulate_aa, simulate_experiment

METHODS = ("bonferroni", "holm", "bh")


@dataclass
class Row:
    metric_set: str
    method: str
    family_size: int
    metric_power: float
    metric_power_theory: float | None   # for Bonferroni (Holm's and BH's first step); None otherwise
    effect_detection: float
    fwer: float
    fdr: float
    discoveries: float                  # mean significant decision metrics per experiment

    def as_dict(self) -> dict:
        return asdict(self)


def theory_power(noncentralities: list[float], alpha: float, m: int) -> float:
    """Mean two-sided power of a z-test at level alpha/m over the given noncentralities."""
    z = stats.norm.isf(alpha / (2 * m))
    return float(np.mean([stats.norm.sf(z - lam) + stats.norm.cdf(-z - lam) for lam in noncentralities]))


def run_validation(design: Design = Design(), n_experiments: int = 200, seed: int = 0, alpha: float = 0.05,
                   threshold: float = 0.7, aa_units: int = 8000) -> dict:
    # statsmodels' Holm calls gc.collect() each time; freezing the objects alive now keeps that cheap
    gc.freeze()
    try:
        return _run(design, n_experiments, seed, alpha, threshold, aa_units)
    finally:
        gc.unfreeze()


def _run(design: Design, n_experiments: int, seed: int, alpha: float, threshold: float, aa_units: int) -> dict:
    rng = np.random.default_rng(seed)
    pruning = prune(simulate_aa(rng, design, aa_units), threshold=threshold, max_decision=design.n_metrics)
    names = design.names()
    sets = {f"all {len(names)}": set(names), f"pruned {len(pruning.representatives)}": set(pruning.representatives)}
    groups = dict(zip(names, design.groups()))
    tallies = {(s, m): {"power": [], "detect": [], "fwe": [], "fdp": [], "disc": [], "lams": []}
               for s in sets for m in METHODS}
    for _ in range(n_experiments):
        units, true, affected = simulate_experiment(rng, design)
        lam_of = {g: design.noncentrality[r % len(design.noncentrality)] for r, g in enumerate(sorted(affected))}
        effects = [metric_effect(units, name, "treatment", "control") for name in names]
        for set_name, decision in sets.items():
            families = {n: ("decision" if n in decision else "exploratory") for n in names}
            for method in METHODS:
                corrected = [copy.copy(e) for e in effects]
                correct(corrected, families, method, alpha)
                found = {e.metric for e in corrected if e.family == "decision" and e.significant}
                true_in = true & decision
                t = tallies[(set_name, method)]
                t["power"].append(len(found & true_in) / len(true_in) if true_in else np.nan)
                t["detect"].append(len({groups[n] for n in found & true}) / len(affected))
                false = len(found - true)
                t["fwe"].append(false > 0)
                t["fdp"].append(false / max(1, len(found)))
                t["disc"].append(len(found))
                t["lams"].extend(lam_of[groups[n]] for n in true_in)
    rows = []
    for (set_name, method), t in tallies.items():
        m = len(sets[set_name])
        rows.append(Row(set_name, method, m, float(np.nanmean(t["power"])),
                        theory_power(t["lams"], alpha, m) if method == "bonferroni" else None,
                        float(np.mean(t["detect"])), float(np.mean(t["fwe"])), float(np.mean(t["fdp"])),
                        float(np.mean(t["disc"]))))
    recovered = sorted(sorted(groups[n] for n in c) for c in pruning.clusters)
    return {"design": asdict(design), "n_experiments": n_experiments, "seed": seed, "alpha": alpha,
            "threshold": threshold, "clusters_found": len(pruning.clusters), "components_95": pruning.components_95,
            "clusters_match_groups": all(len(set(c)) == 1 for c in recovered) and len(recovered) == design.n_groups,
            "representatives": pruning.representatives, "rows": [r.as_dict() for r in rows]}


def format_table(result: dict) -> str:
    head = ("metric set", "method", "m", "metric power", "theory", "effects detected", "FWER", "FDR", "discoveries")
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for r in result["rows"]:
        theory = "—" if r["metric_power_theory"] is None else f"{r['metric_power_theory']:.3f}"
        lines.append(" | ".join([r["metric_set"], r["method"], str(r["family_size"]), f"{r['metric_power']:.3f}",
                                 theory, f"{r['effect_detection']:.3f}", f"{r['fwer']:.3f}", f"{r['fdr']:.3f}",
                                 f"{r['discoveries']:.2f}"]))
    return "\n".join("| " + line + " |" for line in lines)
