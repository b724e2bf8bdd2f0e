"""Fast seeded version of bench/bench_experiment.py: with correlated metrics, a decision metric has more
power in the pruned family than among all metrics, by the ratio theory predicts; error rates stay at
their levels."""

from __future__ import annotations

import numpy as np

from intentkg.experiment.simulate import Design
from intentkg.experiment.validation import format_table, run_validation


def test_pruned_family_gives_a_decision_metric_the_power_theory_predicts():
    design = Design(n_metrics=24, n_groups=6, n_per_arm=300, affected_groups=2, noncentrality=(3.0, 3.5))
    result = run_validation(design, n_experiments=60, seed=1, aa_units=3000)
    assert result["clusters_match_groups"] and result["clusters_found"] == 6
    rows = {(r["metric_set"], r["method"]): r for r in result["rows"]}
    for method in ("bonferroni", "holm"):
        assert rows[("pruned 6", method)]["metric_power"] > 1.1 * rows[("all 24", method)]["metric_power"]
        for metric_set in ("all 24", "pruned 6"):
            assert rows[(metric_set, method)]["fwer"] <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 60)
    theory_gain = rows[("pruned 6", "bonferroni")]["metric_power_theory"] / rows[("all 24", "bonferroni")][
        "metric_power_theory"]
    gain = rows[("pruned 6", "bonferroni")]["metric_power"] / rows[("all 24", "bonferroni")]["metric_power"]
    assert abs(gain - theory_gain) < 0.25
    for metric_set in ("all 24", "pruned 6"):
        bonferroni = rows[(metric_set, "bonferroni")]
        n_true = 60 * (2 * 4 if metric_set == "all 24" else 2)
        se = np.sqrt(bonferroni["metric_power_theory"] * (1 - bonferroni["metric_power_theory"]) / n_true)
        # correlated metrics make the draws dependent, so allow a wider band than independent draws
        assert abs(bonferroni["metric_power"] - bonferroni["metric_power_theory"]) < 4 * se + 0.03
        assert rows[(metric_set, "bh")]["fdr"] <= 0.05 + 0.03
        assert rows[(metric_set, "holm")]["metric_power"] >= bonferroni["metric_power"]
    table = format_table(result)
    assert table.count("\n") == 1 + len(result["rows"]) and "| pruned 6 | holm | 6 |" in table
