"""Pruning recovers simulated metric groups; PCA, representative rule and tiers."""

from __future__ import annotations

import numpy as np
import pytest

from intentkg.errors import InputError
from intentkg.experiment.prune import prune
from intentkg.experiment.simulate import Design, simulate_aa


def test_clusters_are_the_simulated_groups_and_pca_matches_the_eigenvalues():
    design = Design(n_metrics=20, n_groups=5, within_r=0.85, shared_r=0.05)
    units = simulate_aa(np.random.default_rng(7), design, 3000, n_experiments=3)
    result = prune(units, threshold=0.7, guardrails=["g04_m16"])
    groups = dict(zip(design.names(), design.groups()))
    assert sorted(sorted({groups[m] for m in c}) for c in result.clusters) == [[g] for g in range(5)]
    assert all(len(c) == 4 for c in result.clusters) and len(result.representatives) == 5
    eigen = np.sort(np.linalg.eigvalsh(np.array(result.correlation)))[::-1]
    assert result.explained_variance_ratio == pytest.approx(list(eigen / eigen.sum()), abs=1e-3)
    assert result.components_95 == int(np.searchsorted(np.cumsum(eigen / eigen.sum()), 0.95) + 1)
    assert 5 < result.components_95 < 20  # 5 strong factors, then the metrics' own noise
    assert result.tiers["guardrails"] == ["g04_m16"] and "g04_m16" not in result.tiers["decision"]
    assert set(result.tiers["decision"]) | set(result.tiers["exploratory"]) | {"g04_m16"} == set(design.names())


def test_prefer_overrides_centrality_and_centrality_picks_the_hub():
    design = Design(n_metrics=8, n_groups=2)
    units = simulate_aa(np.random.default_rng(8), design, 2000)
    hub = units.values["g00_m0"]
    for name in ("g00_m1", "g00_m2", "g00_m3"):  # make g00_m0 the metric the others depend on
        units.values[name] = hub + 0.3 * np.random.default_rng(int(name[-1])).standard_normal(len(hub))
    result = prune(units, threshold=0.6)
    assert "g00_m0" in result.representatives
    preferred = prune(units, threshold=0.6, prefer=["g00_m2"]).representatives
    assert "g00_m2" in preferred and "g00_m0" not in preferred


def test_treatment_effects_do_not_create_correlation():
    design = Design(n_metrics=4, n_groups=4, within_r=0.5, shared_r=0.0)
    units = simulate_aa(np.random.default_rng(9), design, 4000)
    treated = units.variant == "treatment"
    for name in units.metrics:  # a big effect on every metric would correlate them across arms
        units.values[name][treated] += 10.0
    result = prune(units, threshold=0.5)
    assert len(result.clusters) == 4
    assert np.abs(np.array(result.correlation) - np.eye(4)).max() < 0.1


def test_too_few_units_is_an_error():
    units = simulate_aa(np.random.default_rng(0), Design(n_metrics=4, n_groups=2), 6)
    with pytest.raises(InputError, match="at least 10"):
        prune(units)
