"""Fast seeded version of bench/bench_experiment.py: with correlated metrics, the pruned set finds more
true effects than all metrics under a family-wise correction, error rates stay at their levels, and
the simulated power agrees with theory."""

from __future__ import annotations

import numpy as np

from intentkg.experiment.simulate import Design
from intentkg.experiment.validation import format_table, run_validation


def test_pruned_set_detects_more_at_controlled_error_rates():
    design = Design(n_metrics=24, n_groups=6, n_per_arm=300, affected_groups=2, noncentrality=(3.0, 3.5))
    result = run_validation(design, n_experiments=60, seed=1, aa_units=3000)
    assert result["clusters_match_groups"] and result["clusters_found"] == 6
    rows = {(r["metric_set"], r["method"]): r for r in result["rows"]}
    for method in ("bonferroni", "holm"):
        assert rows[("pruned 6", method)]["effect_detection"] > rows[("all 24", method)]["effect_detection"]
        assert rows[("pruned 6", method)]["fwer"] <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 60)
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
