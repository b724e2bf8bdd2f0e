"""Near-duplicate tails: cluster distinct tails once for the whole set, then fold duplicate candidates.

1. Distinct tails (normalised keys, so "Camping trips." and "camping trip" are already one) are
   clustered globally: lexically with MinHash LSH over character n-grams (candidate pairs kept when
   the exact Jaccard of their n-gram sets >= threshold) and
   semantically with random-hyperplane LSH over the tail embeddings (cosine >= threshold). A
   cluster's text is its most frequent member.
2. Candidates are grouped per behaviour by (behaviour, relation, cluster); the best of each group
   (no rule flags, then highest completeness, then earliest position/sample) is the representative.
   With ``scope: global`` the representatives are grouped again across behaviours by
   (head, relation, cluster). Every other row gets ``dup_of`` = its final representative; the
   representative's ``dup_count`` is how many rows were folded into it.

The grouping is SQL window functions in DuckDB (spills to disk); the clustering holds the signature
matrix memory-mapped and a few arrays of one integer per distinct tail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from intentkg.filter.config import DedupConfig
from intentkg.filter.lsh import (components, cosine_verifier, minhash_verifier, similar_pairs,
                                 simhash_bits)
from intentkg.filter.minhash import MinHasher, lsh_params
from intentkg.filter.shingle_sets import ShingleSets


@dataclass
class TailClusters:
    lexical: np.ndarray  # per distinct tail: label of its lexical cluster (smallest member index)
    cluster: np.ndarray  # per distinct tail: label after semantic merging
    representative: np.ndarray  # per distinct tail: index of its cluster's most frequent member
    signatures: np.ndarray | None = None  # MinHash signatures
    sets: ShingleSets | None = None  # n-gram sets, for the exact Jaccard of dropped rows
    embeddings: np.ndarray | None = None
    stats: dict = field(default_factory=dict)

    def similarity(self, a: np.ndarray, b: np.ndarray) -> tuple[list[str], np.ndarray]:
        """For row pairs of distinct-tail indexes: how they matched (exact / lexical / semantic) and the
        similarity (1.0, exact Jaccard of the n-gram sets, or cosine)."""
        kinds = np.where(a == b, "exact", np.where(self.lexical[a] == self.lexical[b], "lexical", "semantic"))
        sims = np.ones(len(a), dtype=np.float64)
        lex = kinds == "lexical"
        if lex.any() and self.sets is not None:
            sims[lex] = self.sets.jaccard(a[lex], b[lex])
        elif lex.any() and self.signatures is not None:
            sims[lex] = minhash_verifier(self.signatures)(a[lex], b[lex])
        sem = kinds == "semantic"
        if sem.any() and self.embeddings is not None:
            sims[sem] = cosine_verifier(self.embeddings)(a[sem], b[sem])
        return kinds.tolist(), np.round(sims, 4)


def cluster_tails(chunks: Iterable[list[str]], counts: np.ndarray, config: DedupConfig, scratch: Path,
                  embeddings: np.ndarray | None = None) -> TailClusters:
    """Cluster ``len(counts)`` distinct tails arriving in ``chunks`` (in index order)."""
    n = len(counts)
    stats: dict = {"distinct_tails": n}
    signatures = shingle_sets = None
    lexical = np.arange(n, dtype=np.int64)
    pairs_a, pairs_b = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    if config.lexical and n:
        hasher = MinHasher(config.num_perm, config.ngram)
        sets = ShingleSets(scratch / "shingles.u32", n)
        signatures = hasher.signatures_to_memmap(chunks, n, scratch / "minhash.npy", "dedup: minhash", sets)
        shingle_sets = sets.finish()
        bands, rows = lsh_params(config.lexical_threshold, config.num_perm)
        checked: dict = {}
        verify = lexical_verifier(shingle_sets, config.lexical_threshold, checked)
        a, b, _, search = similar_pairs(signatures, bands, rows, verify, config.lexical_threshold, config.max_bucket)
        lexical = components(n, a, b)
        pairs_a.append(a)
        pairs_b.append(b)
        stats.update(lexical_bands=bands, lexical_rows=rows, lexical_pairs=int(len(a)),
                     lexical_clusters=int(len(np.unique(lexical))), **search.as_dict("lexical"),
                     lexical_exact_checks=int(checked.get("exact", 0)))
    cluster = lexical
    if config.semantic and embeddings is not None and n:
        bits = simhash_bits(embeddings, config.semantic_bands * config.semantic_band_bits)
        width = config.semantic_band_bits // 8
        a, b, _, search = similar_pairs(bits, config.semantic_bands, width, cosine_verifier(embeddings),
                                        config.semantic_threshold, config.max_bucket)
        del bits
        stats.update(search.as_dict("semantic"))
        pairs_a.append(a)
        pairs_b.append(b)
        cluster = components(n, np.concatenate(pairs_a), np.concatenate(pairs_b))
        stats.update(semantic_pairs=int(len(a)), clusters=int(len(np.unique(cluster))))
    return TailClusters(lexical=lexical, cluster=cluster, representative=_most_frequent(cluster, counts),
                        signatures=signatures, sets=shingle_sets, embeddings=embeddings, stats=stats)


def lexical_verifier(sets: ShingleSets, threshold: float, counts: dict | None = None):
    """Exact Jaccard of the n-gram sets for the pairs whose exact bounds allow ``threshold``
    (:meth:`ShingleSets.may_reach`); 0 for the others, whose Jaccard is below it. ``counts["exact"]``
    adds up the pairs that got the exact check."""
    def verify(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        sims = np.zeros(len(a), dtype=np.float32)
        worth = np.flatnonzero(sets.may_reach(a, b, threshold))
        sims[worth] = sets.jaccard(a[worth], b[worth])
        if counts is not None:
            counts["exact"] = counts.get("exact", 0) + len(worth)
        return sims
    return verify


def _most_frequent(labels: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per node: the member of its cluster with the highest count (ties: smallest index)."""
    n = len(labels)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.arange(n), -counts.astype(np.int64), labels))
    sorted_labels = labels[order]
    first = np.ones(n, dtype=bool)
    first[1:] = sorted_labels[1:] != sorted_labels[:-1]
    best = np.empty(int(labels.max()) + 1, dtype=np.int64)
    best[sorted_labels[first]] = order[first]
    return best[labels]


def duplicate_sql(rows: str, config: DedupConfig) -> str:
    """SQL over ``rows`` (columns row, behavior_id, head_key, relation, cluster, n_flags, completeness,
    position, sample, candidate_id) giving row, dup_of_row and dup_count for every row with a cluster."""
    relation = "'*'" if config.ignore_relation else "relation"
    rank = "n_flags > 0, completeness DESC NULLS LAST, position, sample, candidate_id"
    local = f"""
        SELECT row, first_value(row) OVER w AS rep, row_number() OVER w AS rank_in_group,
               head_key, {relation} AS rel, cluster, n_flags, completeness, position, sample, candidate_id
        FROM {rows} WHERE cluster IS NOT NULL
        WINDOW w AS (PARTITION BY behavior_id, {relation}, cluster ORDER BY {rank})"""
    if config.scope == "global":
        final = f"""
        , top AS (SELECT row, first_value(row) OVER (PARTITION BY head_key, rel, cluster ORDER BY {rank})
                  AS grep FROM local WHERE rank_in_group = 1)
        , resolved AS (SELECT l.row, t.grep AS final FROM local l JOIN top t ON t.row = l.rep)"""
    else:
        final = ", resolved AS (SELECT row, rep AS final FROM local)"
    return f"""
        WITH local AS ({local}) {final},
        sizes AS (SELECT final, count(*) - 1 AS folded FROM resolved GROUP BY final)
        SELECT r.row, CASE WHEN r.final = r.row THEN NULL ELSE r.final END AS dup_of_row,
               CASE WHEN r.final = r.row THEN s.folded ELSE 0 END AS dup_count
        FROM resolved r JOIN sizes s USING (final)"""
