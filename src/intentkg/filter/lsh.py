"""Banded LSH over signature matrices, bounded in memory, plus connected components of the matches.

One index serves both dedup flavours:

- lexical: MinHash signatures (uint32 per permutation); a band is ``rows`` consecutive permutations;
  a candidate pair is verified by the share of equal permutations (the Jaccard estimate).
- semantic: random-hyperplane bits of the embeddings (SimHash); a band is ``rows`` bits; a pair is
  verified by the exact cosine of the two embeddings.

Per band, the N band keys (8 bytes each) are sorted; in each bucket every member is compared with
the bucket's first member (up to ``max_bucket`` members), so the work is O(N log N) per band
whatever the bucket sizes. Memory: the signature matrix (memory-mapped) plus a few N-sized integer
arrays; the matched pairs are merged into components with scipy's connected_components.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

Verifier = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (idx_a, idx_b) -> similarity per pair

_MIX = np.uint64(0x9E3779B97F4A7C15)


def band_keys(signatures: np.ndarray, start: int, stop: int, chunk: int = 262_144) -> np.ndarray:
    """A uint64 key per row from columns [start, stop) (a polynomial hash; collisions get verified)."""
    n = signatures.shape[0]
    keys = np.empty(n, dtype=np.uint64)
    for lo in range(0, n, chunk):
        block = np.asarray(signatures[lo:lo + chunk, start:stop], dtype=np.uint64)
        key = np.zeros(block.shape[0], dtype=np.uint64)
        for j in range(block.shape[1]):
            key = (key * _MIX) ^ (block[:, j] + np.uint64(j + 1))
        keys[lo:lo + chunk] = key
    return keys


def bucket_pairs(keys: np.ndarray, max_bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """(leader, member) index pairs for every bucket of equal keys, leader = smallest index."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    new_group = np.empty(len(order), dtype=bool)
    if len(order):
        new_group[0] = True
        new_group[1:] = sorted_keys[1:] != sorted_keys[:-1]
    group_start = np.flatnonzero(new_group)
    group_id = np.cumsum(new_group) - 1
    rank = np.arange(len(order)) - group_start[group_id]
    member = (rank > 0) & (rank < max_bucket)
    leaders = order[group_start[group_id[member]]]
    return leaders, order[member]


def similar_pairs(signatures: np.ndarray, bands: int, rows: int, verify: Verifier, threshold: float,
                  max_bucket: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Verified (a, b, similarity) pairs over all bands, duplicates removed."""
    found_a, found_b, found_s = [], [], []
    for band in range(bands):
        keys = band_keys(signatures, band * rows, (band + 1) * rows)
        leaders, members = bucket_pairs(keys, max_bucket)
        del keys
        if not len(members):
            continue
        sims = np.empty(len(members), dtype=np.float32)
        step = 262_144
        for lo in range(0, len(members), step):
            sims[lo:lo + step] = verify(leaders[lo:lo + step], members[lo:lo + step])
        keep = sims >= threshold
        found_a.append(leaders[keep])
        found_b.append(members[keep])
        found_s.append(sims[keep])
    if not found_a:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float32)
    a, b, s = np.concatenate(found_a), np.concatenate(found_b), np.concatenate(found_s)
    pair_key = a.astype(np.int64) * (int(signatures.shape[0]) + 1) + b
    _, first = np.unique(pair_key, return_index=True)
    return a[first], b[first], s[first]


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Label per node; each label is the smallest node index of its component."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    smallest = np.full(labels.max() + 1, n, dtype=np.int64)
    np.minimum.at(smallest, labels, np.arange(n))
    return smallest[labels]


def minhash_verifier(signatures: np.ndarray) -> Verifier:
    def verify(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (np.asarray(signatures[a]) == np.asarray(signatures[b])).mean(axis=1).astype(np.float32)
    return verify


def cosine_verifier(vectors: np.ndarray) -> Verifier:
    def verify(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        va = np.asarray(vectors[a], dtype=np.float32)
        vb = np.asarray(vectors[b], dtype=np.float32)
        return np.einsum("ij,ij->i", va, vb)
    return verify


def simhash_bits(vectors: np.ndarray, n_bits: int, seed: int = 7, chunk: int = 65_536) -> np.ndarray:
    """Random-hyperplane signs of each vector, packed as uint8 (n, ceil(n_bits / 8))."""
    planes = np.random.default_rng(seed).standard_normal((vectors.shape[1], n_bits)).astype(np.float32)
    out = np.empty((vectors.shape[0], (n_bits + 7) // 8), dtype=np.uint8)
    for lo in range(0, vectors.shape[0], chunk):
        block = np.asarray(vectors[lo:lo + chunk], dtype=np.float32)
        out[lo:lo + chunk] = np.packbits(block @ planes > 0, axis=1)
    return out
