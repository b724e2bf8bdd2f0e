"""Exact Jaccard of n-gram sets, vectorised over pairs, equals Python's set arithmetic."""

from __future__ import annotations

import random

import numpy as np
import pytest

from intentkg.filter.minhash import MinHasher, shingles
from intentkg.filter.shingle_sets import ShingleSets


def test_jaccard_equals_python_sets_over_random_pairs(tmp_path):
    rng = random.Random(3)
    words = ["camping", "trip", "baby", "warm", "dog", "walk", "a", "the", "winter", "x"]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 5))) for _ in range(300)] + ["", "ab"]
    sets = ShingleSets(tmp_path / "sets.u32", len(texts))
    hasher = MinHasher(num_perm=16, ngram=3)
    for lo in range(0, len(texts), 97):  # appended in chunks, as the dedup stage does
        hasher.signatures(texts[lo:lo + 97], sets)
    sets.finish()
    a = np.array([rng.randrange(len(texts)) for _ in range(2000)])
    b = np.array([rng.randrange(len(texts)) for _ in range(2000)])
    expected = [len(set(shingles(texts[x], 3)) & set(shingles(texts[y], 3)))
                / len(set(shingles(texts[x], 3)) | set(shingles(texts[y], 3))) for x, y in zip(a, b)]
    assert sets.jaccard(a, b).tolist() == pytest.approx(expected, abs=1e-6)
    assert sets.jaccard(np.array([], dtype=np.int64), np.array([], dtype=np.int64)).shape == (0,)


def test_finished_sets_travel_to_cluster_workers(tmp_path):
    """Ray ships the dedup clusters (and these sets) to the filter's actors by pickling them in memory;
    the old code failed there ("cannot pickle '_io.BufferedWriter'")."""
    import pickle

    texts = ["camping trip", "camping trips", "baby warm"]
    sets = ShingleSets(tmp_path / "sets.u32", len(texts))
    MinHasher(num_perm=16, ngram=3).signatures(texts, sets)
    sets.finish()
    copy = pickle.loads(pickle.dumps(sets))
    a, b = np.array([0, 0]), np.array([1, 2])
    assert copy.jaccard(a, b).tolist() == sets.jaccard(a, b).tolist()
