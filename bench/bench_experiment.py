"""Validation of the experiment read-out by simulation (issue 16): 50 metrics in 12 correlated groups,
3 groups with a true effect per experiment, >= 200 seeded experiments. Detection power and false
discoveries with all 50 metrics in the decision family vs the pruned set (one representative per
cluster, found by `prune` on simulated A/A history), under Bonferroni, Holm and Benjamini-Hochberg,
next to the theoretical per-metric power. The baseline (all 50) is measured in the same run.

    .venv/bin/python bench/bench_experiment.py                    # 300 experiments, seed 0
    .venv/bin/python bench/bench_experiment.py --experiments 1000 --seed 1 --json out.json
"""

from __future__ import annotations

import json
import time

import bench_args

from intentkg.experiment.simulate import Design
from intentkg.experiment.validation import format_table, run_validation


def main() -> None:
    args = bench_args.parse(__doc__, experiments=300, seed=0, per_arm=1000, threshold=0.7,
                            sweep=(100, int, "experiments per within-group correlation in the sensitivity sweep "
                                             "(0: none)"),
                            json=(None, str, "also write the full result here"))
    design = Design(n_per_arm=args.per_arm)
    started = time.perf_counter()
    result = run_validation(design, n_experiments=args.experiments, seed=args.seed, threshold=args.threshold)
    seconds = time.perf_counter() - started
    print(f"{args.experiments} simulated experiments, {design.n_metrics} metrics in {design.n_groups} groups "
          f"(within-group r {design.within_r}), {design.affected_groups} true group effects each "
          f"(noncentrality {design.noncentrality}), {design.n_per_arm} units per arm, seed {args.seed}, "
          f"alpha {result['alpha']}")
    print(f"prune on {8000} A/A units: {result['clusters_found']} clusters at |r| >= {args.threshold} "
          f"(match the simulated groups: {result['clusters_match_groups']}), "
          f"{result['components_95']} components for 95% of variance")
    print(format_table(result))
    rows = {(r["metric_set"], r["method"]): r for r in result["rows"]}
    pruned = next(s for s, _ in rows if s.startswith("pruned"))
    everything = next(s for s, _ in rows if s.startswith("all"))
    for method in ("bonferroni", "holm", "bh"):
        a, p = rows[(everything, method)], rows[(pruned, method)]
        print(f"{method}: effects detected, pruned / all = {p['effect_detection'] / a['effect_detection']:.2f}x "
              f"({p['effect_detection']:.3f} vs {a['effect_detection']:.3f}); metric power "
              f"{p['metric_power'] / a['metric_power']:.2f}x")
    print(f"({seconds:.1f} s)")
    if args.sweep:
        print(f"\nsensitivity to redundancy (Holm, {args.sweep} experiments each): within-group r, "
              f"metric power pruned / all, effects detected pruned / all")
        for r in (0.6, 0.75, 0.9, 0.97):
            sweep = run_validation(Design(n_per_arm=args.per_arm, within_r=r), n_experiments=args.sweep,
                                   seed=args.seed + 1, threshold=min(args.threshold, r - 0.15))
            got = {(x["metric_set"].split()[0], x["method"]): x for x in sweep["rows"]}
            a, p = got[("all", "holm")], got[("pruned", "holm")]
            print(f"  r {r:.2f}: {sweep['clusters_found']} clusters; metric power {p['metric_power']:.3f} / "
                  f"{a['metric_power']:.3f} = {p['metric_power'] / a['metric_power']:.2f}x; effects detected "
                  f"{p['effect_detection']:.3f} / {a['effect_detection']:.3f} = "
                  f"{p['effect_detection'] / a['effect_detection']:.2f}x; FWER {p['fwer']:.3f} / {a['fwer']:.3f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
