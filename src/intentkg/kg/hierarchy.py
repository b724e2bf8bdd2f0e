"""A hierarchy of intentions, broad -> fine, for navigation (camping -> winter camping -> air mattress).

Two passes, in the spirit of FolkScope's conceptualisation:

1. Lexical: a phrase's parent is its longest proper suffix that is itself an intention
   ("winter camping" -> "camping", "camping with kids" is left for pass 2).
2. Semantic: intentions still without a parent are clustered by embedding cosine (average
   linkage); in each cluster the most supported, shortest member becomes the broad node and the
   others its children. Clustering is skipped above ``max_nodes`` (quadratic memory); the
   manifest says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def lexical_parents(keys: Sequence[str]) -> dict[str, str]:
    known = set(keys)
    parents: dict[str, str] = {}
    for key in keys:
        words = key.split(" ")
        for start in range(1, len(words)):
            suffix = " ".join(words[start:])
            if suffix in known and suffix != key:
                parents[key] = suffix
                break
    return parents


def semantic_parents(keys: Sequence[str], supports: Sequence[int], embed: Callable[[list[str]], np.ndarray],
                     distance: float) -> dict[str, str]:
    if len(keys) < 2:
        return {}
    from sklearn.cluster import AgglomerativeClustering

    vectors = np.asarray(embed(list(keys)), dtype=np.float32)
    labels = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                     distance_threshold=distance).fit_predict(vectors)
    parents: dict[str, str] = {}
    for label in np.unique(labels):
        members = [i for i in np.flatnonzero(labels == label)]
        if len(members) < 2:
            continue
        broad = min(members, key=lambda i: (-supports[i], len(keys[i].split()), len(keys[i]), keys[i]))
        for i in members:
            if i != broad:
                parents[keys[i]] = keys[broad]
    return parents


def build_hierarchy(keys: Sequence[str], supports: Sequence[int],
                    embed: Callable[[list[str]], np.ndarray] | None, distance: float,
                    max_nodes: int = 20_000) -> tuple[dict[str, str], dict[str, int | str]]:
    """Return key -> parent key, and numbers for the manifest."""
    parents = lexical_parents(keys)
    stats: dict[str, int | str] = {"lexical_links": len(parents)}
    rest = [i for i, k in enumerate(keys) if k not in parents]
    if embed is None:
        stats["semantic"] = "skipped: no embedder"
    elif len(rest) > max_nodes:
        stats["semantic"] = f"skipped: {len(rest)} intentions > max_nodes {max_nodes}"
    else:
        semantic = semantic_parents([keys[i] for i in rest], [supports[i] for i in rest], embed, distance)
        stats["semantic_links"] = len(semantic)
        parents.update(semantic)
    # never a cycle: a parent that itself points back is cut
    for key in list(parents):
        seen, node = {key}, parents[key]
        while node in parents:
            if node in seen:
                del parents[key]
                break
            seen.add(node)
            node = parents[node]
    return parents, stats
