"""Metric pruning from historical experiments or A/A data.

1. Correlation: Pearson over units, after centring every metric within its (experiment_id, variant)
   group, so treatment effects and experiment-to-experiment shifts do not create correlation. This
   within-group correlation is what correlates the metrics' test statistics. Ratio metrics enter
   through their delta-method linearisation.
2. PCA (scikit-learn) on the standardised metrics: the number of components for 95% of the variance.
3. Clusters: complete-linkage clustering on 1 - |r| cut at 1 - threshold, so every pair of metrics
   in a cluster has |r| >= threshold.
4. Representative per cluster, by this rule: a metric listed in ``prefer`` wins (first listed; the
   CLI passes ``--prefer`` and then the config's ``decision`` list); else
   the one with the highest mean |r| to the rest of its cluster (it summarises the cluster best);
   ties by name.
5. Proposed tiers: decision = the representatives of the largest clusters (at most ``max_decision``),
   guardrails = the configured guardrails (kept as they are, never pruned into another tier),
   exploratory = every other metric.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.decomposition import PCA

from intentkg.errors import InputError
from intentkg.experiment.inputs import Units

VARIANCE_TARGET = 0.95


@dataclass
class Pruning:
    metrics: list[str]
    correlation: list[list[float]]
    explained_variance_ratio: list[float]
    components_95: int
    threshold: float
    clusters: list[list[str]]
    representatives: list[str]
    tiers: dict[str, list[str]]
    units: int
    experiments: int
    rule: str = ("a metric given with --prefer, then one of the config's decision metrics, wins; else the highest "
                 "mean |r| to the rest of its cluster; ties by name")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def centred_matrix(units: Units) -> tuple[np.ndarray, list[str]]:
    """Units x metrics, each metric centred within (experiment, variant); only complete units."""
    names = list(units.metrics)
    data = np.column_stack([units.linearised(m) for m in names])
    complete = ~np.isnan(data).any(axis=1)
    data = data[complete]
    groups = units.variant[complete].astype(str)
    if units.experiment_id is not None:
        groups = np.char.add(np.char.add(units.experiment_id[complete].astype(str), "\x1f"), groups)
    _, inverse = np.unique(groups, return_inverse=True)
    sums = np.zeros((inverse.max() + 1 if len(inverse) else 0, data.shape[1]))
    np.add.at(sums, inverse, data)
    counts = np.bincount(inverse)[:, None]
    return data - (sums / counts)[inverse], names


def prune(units: Units, *, threshold: float = 0.7, max_decision: int = 15, guardrails: list[str] = (),
          prefer: list[str] = ()) -> Pruning:
    data, names = centred_matrix(units)
    if data.shape[0] < 10:
        raise InputError(f"only {data.shape[0]} units have every metric; pruning needs at least 10",
                         file=units.file, hint="use more historical units or fewer metrics")
    spread = data.std(axis=0)
    constant = [n for n, s in zip(names, spread) if s == 0]
    if constant:
        raise InputError(f"metric(s) {constant} never vary within an experiment arm; they carry no signal",
                         file=units.file, column=constant[0], hint="leave them out with `metrics:` in the YAML")
    corr = np.corrcoef(data, rowvar=False)
    standardised = data / spread
    pca = PCA().fit(standardised)
    ratios = pca.explained_variance_ratio_
    components = int(np.searchsorted(np.cumsum(ratios), VARIANCE_TARGET - 1e-12) + 1)
    clusters = _clusters(corr, names, threshold)
    representatives = [_representative(c, corr, names, list(prefer)) for c in clusters]
    guard = [g for g in guardrails if g in names]
    decision = [r for c, r in zip(clusters, representatives) if r not in guard][:max_decision]
    tiers = {"decision": decision, "guardrails": guard,
             "exploratory": [n for n in names if n not in decision and n not in guard]}
    experiments = 1 if units.experiment_id is None else len(set(units.experiment_id.tolist()))
    return Pruning(metrics=names, correlation=np.round(corr, 4).tolist(),
                   explained_variance_ratio=[float(r) for r in ratios], components_95=components,
                   threshold=threshold, clusters=clusters, representatives=representatives, tiers=tiers,
                   units=int(data.shape[0]), experiments=experiments)


def _clusters(corr: np.ndarray, names: list[str], threshold: float) -> list[list[str]]:
    """Largest first; within a cluster metrics keep their table order."""
    if len(names) == 1:
        return [names]
    distance = np.clip(1 - np.abs(corr), 0, None)
    np.fill_diagonal(distance, 0)
    labels = fcluster(linkage(squareform(distance, checks=False), method="complete"),
                      t=1 - threshold, criterion="distance")
    groups: dict[int, list[str]] = {}
    for name, label in zip(names, labels):
        groups.setdefault(int(label), []).append(name)
    order = {n: i for i, n in enumerate(names)}
    return sorted(groups.values(), key=lambda g: (-len(g), order[g[0]]))


def _representative(cluster: list[str], corr: np.ndarray, names: list[str], prefer: list[str]) -> str:
    for name in prefer:
        if name in cluster:
            return name
    if len(cluster) == 1:
        return cluster[0]
    index = [names.index(n) for n in cluster]
    block = np.abs(corr[np.ix_(index, index)])
    centrality = (block.sum(axis=1) - 1) / (len(cluster) - 1)
    return sorted(zip(-np.round(centrality, 12), cluster))[0][1]
