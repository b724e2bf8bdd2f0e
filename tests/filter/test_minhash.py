"""Bulk MinHash equals datasketch's MinHash; the banded index finds near-duplicates and only those."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH

from intentkg.filter.lsh import bucket_pairs, components, cosine_verifier, similar_pairs, simhash_bits
from intentkg.filter.minhash import MinHasher, candidate_probability, lsh_params, shingles
from intentkg.filter.shingle_sets import ShingleSets

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


def _exact_jaccard(x: str, y: str) -> float:
    a, b = set(shingles(x, 3)), set(shingles(y, 3))
    return len(a & b) / len(a | b)


def test_banded_index_finds_every_pair_datasketch_lsh_finds_verified_exactly(tmp_path):
    """Equal to datasketch's MinHashLSH queried for every item, then exact Jaccard (the old leader-only
    comparison with the MinHash estimate missed pairs of two non-leaders and kept estimate-only pairs)."""
    texts = TEXTS + ["camping trip kit", "camping trip set", "a camping trips", "keeping the baby warm"]
    hasher = MinHasher(num_perm=64, ngram=3)
    sets = ShingleSets(tmp_path / "sets.u32", len(texts))
    sigs = hasher.signatures(texts, sets)
    sets.finish()
    bands, rows = lsh_params(0.6, 64)
    a, b, sims, stats = similar_pairs(sigs, bands, rows, sets.jaccard, 0.6, max_bucket=100)
    ours = {(int(x), int(y)) for x, y in zip(a, b)}
    lsh = MinHashLSH(threshold=0.6, num_perm=64, params=(bands, rows))
    for i, sig in enumerate(sigs):
        lsh.insert(i, hasher.to_datasketch(sig))
    theirs = {tuple(sorted((i, j))) for i, sig in enumerate(sigs) for j in lsh.query(hasher.to_datasketch(sig))
              if i != j and _exact_jaccard(texts[i], texts[j]) >= 0.6}
    assert (0, 1) in ours and (3, 4) in ours
    assert ours == theirs
    assert all(_exact_jaccard(texts[x], texts[y]) == pytest.approx(s, abs=1e-6) for x, y, s in zip(a, b, sims))
    assert stats.skipped == 0 and stats.matched == len(ours) and stats.verified >= len(ours)


def test_lsh_params_reach_the_recall_at_the_threshold_with_the_fewest_false_candidates():
    for threshold in (0.5, 0.7, 0.8, 0.9):
        bands, rows = lsh_params(threshold, 64)
        assert bands * rows <= 64 and candidate_probability(threshold, bands, rows) >= 0.99
    assert lsh_params(0.8, 64) == (12, 5)  # datasketch's private optimiser gave (5, 11): P(0.8) = 0.36
    assert lsh_params(0.3, 8) == (8, 1)  # 0.99 unreachable (P(0.3) = 0.94 at best): the highest P instead


def test_components_label_is_smallest_member():
    labels = components(6, np.array([1, 4]), np.array([3, 5]))
    assert labels.tolist() == [0, 1, 2, 1, 4, 4]


def test_bucket_pairs_are_all_pairs_and_the_cap_counts_what_it_skips():
    keys = np.array([7, 7, 7, 7, 3, 3, 9], dtype=np.uint64)
    a, b, skipped, largest = bucket_pairs(keys, max_bucket=100)
    assert sorted(zip(a.tolist(), b.tolist())) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3), (4, 5)]
    assert skipped == 0 and largest == 4
    a, b, skipped, _ = bucket_pairs(keys, max_bucket=2)  # members 2 and 3 are only paired with 0 and 1
    assert sorted(zip(a.tolist(), b.tolist())) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (4, 5)]
    assert skipped == 1


def test_simhash_finds_close_vectors():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((50, 32)).astype(np.float32)
    near = base[:5] + 0.05 * rng.standard_normal((5, 32)).astype(np.float32)
    vectors = np.vstack([base, near])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    bits = simhash_bits(vectors, 16 * 16)
    a, b, sims, _ = similar_pairs(bits, 16, 2, cosine_verifier(vectors), 0.95, max_bucket=100)
    found = {tuple(sorted((int(x), int(y)))) for x, y in zip(a, b)}
    assert {(i, 50 + i) for i in range(5)} <= found
    assert all(s >= 0.95 for s in sims)


def test_the_lexical_verifier_gives_the_exact_jaccard_of_every_pair_it_can_keep(tmp_path):
    """Pairs the size and bucket bounds drop are below the threshold; every other pair gets its exact
    Jaccard (the MinHash estimate it used before missed a pair at the threshold 1 time in 10^4)."""
    from intentkg.filter.dedup import lexical_verifier

    rng = np.random.default_rng(5)
    words = ["winter", "camping", "trip", "trips", "kids", "a", "summer", "tent", "campng", "weekend"]
    long = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz0123"), 500))  # ~490 distinct 3-grams
    texts = [" ".join(rng.choice(words, rng.integers(1, 6))) for _ in range(150)] + [long, long[:-1] + "!"]
    sets = ShingleSets(tmp_path / "s.u32", len(texts))
    MinHasher(64, 3).signatures(texts, sets)
    sets.finish()
    a, b = np.triu_indices(len(texts), 1)
    exact = sets.jaccard(a, b)
    for threshold in (0.5, 0.8):
        counts: dict = {}
        got = lexical_verifier(sets, threshold, counts)(a, b)
        checked = sets.may_reach(a, b, threshold)
        assert np.array_equal(got[checked], exact[checked]) and not got[~checked].any()  # exact, or 0
        assert checked[exact >= threshold].all()  # nothing at or above the threshold is dropped
        assert (~checked & (exact > 0)).any() and counts["exact"] == checked.sum() < len(a) / 2
    assert (sets.sizes(np.array([150])) > 255).all()  # more than 255 n-grams: a count may be capped, no bucket bound
    assert lexical_verifier(sets, 0.8)(np.array([150]), np.array([151]))[0] == pytest.approx(exact[-1])


def test_gram_hashes_are_the_sha1_of_every_shingle():
    """The numpy windows over code points give the n-grams ``shingles`` gives, for short, empty,
    accented, non-BMP and long texts and n from 1 to 5 (packed into an integer up to 3, bytes above)."""
    import random
    import struct
    from hashlib import sha1

    rng = random.Random(0)
    texts = ["", "a", "ab", "camping trip", "café naïve", "日本語のテキスト", "emoji \U0001F3D5 trip", "x" * 300,
             "aaaa aaaa", "\x00z"] + ["".join(rng.choice("ab c\u00e9\U0001F3D5") for _ in range(rng.randint(0, 12)))
                                     for _ in range(300)]
    for n in (1, 2, 3, 4, 5):
        hasher = MinHasher(16, n)
        for _ in range(2):  # the second time every n-gram's hash comes from the cache
            got, lengths = hasher.gram_hashes(texts)
            ends = np.cumsum(lengths)
            for text, end, length in zip(texts, ends, lengths):
                want = {struct.unpack("<I", sha1(g.encode()).digest()[:4])[0] for g in shingles(text, n)}
                assert set(got[end - length:end].tolist()) == want, (n, text)
