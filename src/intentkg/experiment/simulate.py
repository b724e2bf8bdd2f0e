"""Simulated experiments for validating the read-out: ``n_metrics`` metrics in correlated groups (one
latent factor per group, plus a weak factor shared by all), each on its own scale, with true effects
on a few groups. Used by ``bench/bench_experiment.py`` and its fast seeded test."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from intentkg.experiment.inputs import Units


@dataclass(frozen=True)
class Design:
    n_metrics: int = 50
    n_groups: int = 12
    within_r: float = 0.9         # correlation of two metrics of one group
    shared_r: float = 0.05        # correlation of two metrics of different groups
    n_per_arm: int = 1000
    affected_groups: int = 3      # groups with a true effect in every experiment (picked at random)
    noncentrality: tuple[float, ...] = (2.5, 3.0, 3.5)  # true effect / its standard error, per affected group

    def groups(self) -> list[int]:
        """Group index of every metric: sizes as equal as possible (50 in 12 -> 2 of 5, 10 of 4)."""
        sizes = [self.n_metrics // self.n_groups + (1 if g < self.n_metrics % self.n_groups else 0)
                 for g in range(self.n_groups)]
        return [g for g, size in enumerate(sizes) for _ in range(size)]

    def names(self) -> list[str]:
        return [f"g{g:02d}_m{k}" for k, g in enumerate(self.groups())]


def _noise(rng: np.random.Generator, design: Design, n: int) -> np.ndarray:
    groups = np.array(design.groups())
    shared = rng.standard_normal((n, 1))
    factors = rng.standard_normal((n, design.n_groups))
    own = rng.standard_normal((n, design.n_metrics))
    a = np.sqrt(design.shared_r)
    b = np.sqrt(design.within_r - design.shared_r)
    c = np.sqrt(1 - design.within_r)
    return a * shared + b * factors[:, groups] + c * own


def _scales(design: Design) -> tuple[np.ndarray, np.ndarray]:
    k = np.arange(design.n_metrics)
    return 10.0 + 5.0 * (k % 7), 1.0 + (k % 5)   # baselines and standard deviations


def simulate_aa(rng: np.random.Generator, design: Design, n_units: int, n_experiments: int = 4) -> Units:
    """Historical A/A data (no effects) for pruning: ``n_experiments`` experiments, two arms each."""
    base, sd = _scales(design)
    values = base + sd * _noise(rng, design, n_units)
    variant = np.where(np.arange(n_units) % 2 == 0, "control", "treatment").astype(object)
    experiment = np.array([f"aa-{i % n_experiments}" for i in range(n_units)], dtype=object)
    return _units(design, values, variant, experiment)


def simulate_experiment(rng: np.random.Generator, design: Design) -> tuple[Units, set[str], set[int]]:
    """One A/B test: (units, names of metrics with a true effect, affected group indices)."""
    base, sd = _scales(design)
    n = design.n_per_arm
    values = base + sd * _noise(rng, design, 2 * n)
    affected = set(int(g) for g in rng.choice(design.n_groups, size=design.affected_groups, replace=False))
    groups = np.array(design.groups())
    se_unit = np.sqrt(2.0 / n)  # standard error of a difference in means, in sd units
    for rank, g in enumerate(sorted(affected)):
        lam = design.noncentrality[rank % len(design.noncentrality)]
        columns = groups == g
        values[n:, columns] += lam * se_unit * sd[columns]
    variant = np.array(["control"] * n + ["treatment"] * n, dtype=object)
    names = design.names()
    true = {names[k] for k in range(design.n_metrics) if groups[k] in affected}
    return _units(design, values, variant, None), true, affected


def _units(design: Design, values: np.ndarray, variant: np.ndarray, experiment: np.ndarray | None) -> Units:
    names = design.names()
    n = len(variant)
    return Units(file="<simulated>", unit_id=np.array([f"u{i}" for i in range(n)], dtype=object), variant=variant,
                 experiment_id=experiment, rows=np.arange(1, n + 1),
                 values={name: values[:, k].copy() for k, name in enumerate(names)}, metrics=names)
