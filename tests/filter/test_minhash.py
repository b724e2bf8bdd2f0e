"""Bulk MinHash equals datasketch's MinHash; the banded index finds near-duplicates and only those."""

from __future__ import annotations

import numpy as np
from datasketch import MinHash, MinHashLSH

from intentkg.filter.lsh import (bucket_pairs, components, cosine_verifier, minhash_verifier, similar_pairs,
                                 simhash_bits)
from intentkg.filter.minhash import MinHasher, lsh_params, shingles

TEXTS = ["camping trip", "camping trips", "a camping trip", "keeping a baby warm", "keeping baby warm",
         "walk the dog", "winter camping", "x"]


def test_signatures_equal_datasketch():
    hasher = MinHasher(num_perm=64, ngram=3)
    sigs = hasher.signatures(TEXTS)
    for text, sig in zip(TEXTS, sigs):
        reference = MinHash(num_perm=64, seed=1, scheme="affine32")
        reference.update_batch([g.encode() for g in shingles(text, 3)])
        assert np.array_equal(reference.hashvalues, sig)
    a, b = hasher.to_datasketch(sigs[0]), hasher.to_datasketch(sigs[1])
    assert a.jaccard(b) == float((sigs[0] == sigs[1]).mean())


def test_banded_index_agrees_with_datasketch_lsh():
    hasher = MinHasher(num_perm=64, ngram=3)
    sigs = hasher.signatures(TEXTS)
    bands, rows = lsh_params(0.6, 64)
    a, b, sims = similar_pairs(sigs, bands, rows, minhash_verifier(sigs), 0.6, max_bucket=100)
    ours = {tuple(sorted((int(x), int(y)))) for x, y in zip(a, b)}
    lsh = MinHashLSH(threshold=0.6, num_perm=64, params=(bands, rows))
    for i, sig in enumerate(sigs):
        lsh.insert(i, hasher.to_datasketch(sig))
    theirs = {tuple(sorted((i, j))) for i, sig in enumerate(sigs) for j in lsh.query(hasher.to_datasketch(sig))
              if i != j and hasher.to_datasketch(sig).jaccard(hasher.to_datasketch(sigs[j])) >= 0.6}
    assert (0, 1) in ours and (3, 4) in ours
    assert ours <= theirs  # the leader-only comparison may skip pairs, never invents them
    assert all(s >= 0.6 for s in sims)


def test_components_label_is_smallest_member():
    labels = components(6, np.array([1, 4]), np.array([3, 5]))
    assert labels.tolist() == [0, 1, 2, 1, 4, 4]


def test_bucket_pairs_cap_bucket_size():
    keys = np.array([7, 7, 7, 7, 3, 3], dtype=np.uint64)
    leaders, members = bucket_pairs(keys, max_bucket=3)
    assert sorted(zip(leaders.tolist(), members.tolist())) == [(0, 1), (0, 2), (4, 5)]


def test_simhash_finds_close_vectors():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((50, 32)).astype(np.float32)
    near = base[:5] + 0.05 * rng.standard_normal((5, 32)).astype(np.float32)
    vectors = np.vstack([base, near])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    bits = simhash_bits(vectors, 16 * 16)
    a, b, sims = similar_pairs(bits, 16, 2, cosine_verifier(vectors), 0.95, max_bucket=100)
    found = {tuple(sorted((int(x), int(y)))) for x, y in zip(a, b)}
    assert {(i, 50 + i) for i in range(5)} <= found
    assert all(s >= 0.95 for s in sims)
