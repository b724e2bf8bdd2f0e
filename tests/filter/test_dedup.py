"""Tail clusters and duplicate folding: one representative per group, the best one, with its count."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from intentkg.filter.config import DedupConfig
from intentkg.filter.dedup import cluster_tails, duplicate_sql


def test_lexical_clusters_and_most_frequent_representative(tmp_path):
    keys = ["camping trip", "camping tri", "keeping a baby warm", "keeping a baby warmer", "walk the dog"]
    counts = np.array([1, 5, 2, 1, 3])
    clusters = cluster_tails(iter([keys]), counts, DedupConfig(semantic=False, lexical_threshold=0.7), tmp_path)
    assert clusters.cluster[0] == clusters.cluster[1] != clusters.cluster[4]
    assert clusters.cluster[2] == clusters.cluster[3]
    assert clusters.representative[0] == 1  # "camping tri" occurs 5 times
    kinds, sims = clusters.similarity(np.array([0, 2, 4]), np.array([1, 3, 4]))
    assert kinds == ["lexical", "lexical", "exact"] and sims[2] == 1.0 and 0.7 <= sims[0] < 1


def test_semantic_merging_uses_embeddings(tmp_path):
    keys = ["going camping", "a night in a tent", "tax software"]
    vectors = np.array([[1, 0, 0], [0.99, 0.141, 0], [0, 0, 1]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    config = DedupConfig(semantic_threshold=0.95, semantic_bands=16, semantic_band_bits=8)
    clusters = cluster_tails(iter([keys]), np.array([1, 1, 1]), config, tmp_path, vectors)
    assert clusters.lexical[0] != clusters.lexical[1]
    assert clusters.cluster[0] == clusters.cluster[1] != clusters.cluster[2]
    kinds, sims = clusters.similarity(np.array([1]), np.array([0]))
    assert kinds == ["semantic"] and sims[0] > 0.95


def _rows():
    # row, behavior_id, head_key, relation, cluster, n_flags, completeness, position, sample, candidate_id
    data = [
        (0, "b1", "h1", "used_for_event", 1, 0, -2.0, 1, 0, "c0"),
        (1, "b1", "h1", "used_for_event", 1, 0, -1.0, 2, 0, "c1"),  # better completeness -> representative
        (2, "b1", "h1", "used_for_event", 1, 1, -0.5, 3, 0, "c2"),  # flagged: never preferred
        (3, "b1", "h1", "xWant", 1, 0, -1.0, 1, 0, "c3"),  # other relation: its own group
        (4, "b2", "h1", "used_for_event", 1, 0, -3.0, 1, 0, "c4"),  # other behaviour, same head
        (5, "b3", "h3", "used_for_event", 1, 0, -1.0, 1, 0, "c5"),  # other head
        (6, "b3", "h3", "used_for_event", None, 1, None, 2, 0, "c6"),  # no tail: not grouped
    ]
    names = ["row", "behavior_id", "head_key", "relation", "cluster", "n_flags", "completeness", "position",
             "sample", "candidate_id"]
    return pa.table({n: [r[i] for r in data] for i, n in enumerate(names)})


def _dups(config):
    con = duckdb.connect()
    con.register("rows", _rows())
    result = con.execute(duplicate_sql("rows", config) + " ORDER BY row").fetchall()
    return {row: (dup_of, count) for row, dup_of, count in result}


def test_global_scope_folds_across_behaviours_with_the_same_head():
    dups = _dups(DedupConfig(scope="global"))
    assert dups[1] == (None, 3)  # c0, c2 (same behaviour) and c4 (same head, other behaviour)
    assert dups[0] == (1, 0) and dups[2] == (1, 0) and dups[4] == (1, 0)
    assert dups[3] == (None, 0) and dups[5] == (None, 0)
    assert 6 not in dups


def test_behavior_scope_and_ignore_relation():
    dups = _dups(DedupConfig(scope="behavior"))
    assert dups[1] == (None, 2) and dups[4] == (None, 0)
    merged = _dups(DedupConfig(scope="behavior", ignore_relation=True))
    assert merged[3] == (None, 3) and merged[1] == (3, 0)  # tie on completeness: earlier position wins


def test_every_bucket_pair_is_compared_and_a_cap_is_counted_not_silent(tmp_path):
    keys = [f"camping trip with the kids {c}" for c in "abcdefgh"] + ["walk the dog"]
    counts = np.ones(len(keys), dtype=np.int64)
    (tmp_path / "full").mkdir(), (tmp_path / "capped").mkdir()
    full = cluster_tails(iter([keys]), counts, DedupConfig(semantic=False), tmp_path / "full")
    assert full.stats["lexical_skipped"] == 0 and full.stats["lexical_matched"] == 28  # all 8 x 7 / 2 pairs
    assert full.stats["lexical_verified"] >= 28 and full.stats["lexical_comparisons"] >= full.stats["lexical_verified"]
    assert len(set(full.lexical[:8])) == 1 and full.lexical[8] == 8
    capped = cluster_tails(iter([keys]), counts, DedupConfig(semantic=False, max_bucket=2), tmp_path / "capped")
    assert capped.stats["lexical_skipped"] > 0 and capped.stats["lexical_largest_bucket"] == 8
    assert capped.stats["lexical_matched"] < 28 and len(set(capped.lexical[:8])) == 1  # still one cluster
