"""Banded LSH over signature matrices, bounded in memory, plus connected components of the matches.

One index serves both dedup flavours:

- lexical: MinHash signatures (uint32 per permutation); a band is ``rows`` consecutive permutations;
  a candidate pair is verified by the exact Jaccard of the two n-gram sets (:mod:`shingle_sets`).
- semantic: random-hyperplane bits of the embeddings (SimHash); a band is ``rows`` bits; a pair is
  verified by the exact cosine of the two embeddings.

Per band, the N band keys (8 bytes each) are sorted; within each bucket of equal keys every pair of
members is a candidate. Only a bucket of more than ``max_bucket`` members is cut: each member is
paired with the bucket's first ``max_bucket`` members (the rest of its pairs are counted as
skipped, never silently dropped), so the work stays O(N x max_bucket) per band. Candidates of all
bands are merged before verification, so a pair is verified once. Memory: the signature matrix
(memory-mapped) plus a few arrays of one integer per tail or per candidate pair; the matched pairs
are merged into components with scipy's connected_components.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting (numpy's hash-based unique is several times slower on integer keys)."""
    values = np.sort(values)
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


@dataclass
class PairStats:
    """What one similarity search did: candidate pairs proposed, verified, kept, and skipped by the cap."""

    comparisons: int = 0  # bucket pairs over all bands (a pair in several bands counts in each)
    verified: int = 0  # distinct candidate pairs verified
    matched: int = 0  # verified pairs at or above the threshold
    skipped: int = 0  # bucket pairs not compared because a bucket exceeded max_bucket members
    largest_bucket: int = 0

    def as_dict(self, prefix: str) -> dict[str, int]:
        return {f"{prefix}_{k}": int(v) for k, v in self.__dict__.items()}


def bucket_pairs(keys: np.ndarray, max_bucket: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(a, b, skipped, largest): every pair of rows with equal keys (a < b), but in a bucket of more than
    ``max_bucket`` members only the pairs with one of its first ``max_bucket`` members; ``skipped``
    counts the pairs left out, ``largest`` is the biggest bucket."""
    order = np.argsort(keys, kind="stable")
    n = len(order)
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 0, n
    sorted_keys = keys[order]
    new_group = np.empty(n, dtype=bool)
    new_group[0] = True
    new_group[1:] = sorted_keys[1:] != sorted_keys[:-1]
    group_start = np.flatnonzero(new_group)
    sizes = np.diff(np.append(group_start, n))
    group_id = np.cumsum(new_group) - 1
    rank = np.arange(n) - group_start[group_id]
    partners = np.where(rank < max_bucket, sizes[group_id] - 1 - rank, 0)  # later members paired with it
    source = np.repeat(np.arange(n), partners)
    step = np.arange(len(source)) - np.repeat(np.cumsum(partners) - partners, partners) + 1
    first, second = order[source], order[source + step]
    total = int((sizes.astype(np.int64) * (sizes - 1) // 2).sum())
    return np.minimum(first, second), np.maximum(first, second), total - len(source), int(sizes.max())


def similar_pairs(signatures: np.ndarray, bands: int, rows: int, verify: Verifier, threshold: float,
                  max_bucket: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, PairStats]:
    """Verified (a, b, similarity) pairs (a < b, each pair once) over all bands, and what it took."""
    stats = PairStats()
    n = int(signatures.shape[0])
    candidates = []
    for band in range(bands):
        keys = band_keys(signatures, band * rows, (band + 1) * rows)
        a, b, skipped, largest = bucket_pairs(keys, max_bucket)
        del keys
        stats.comparisons += len(a)
        stats.skipped += skipped
        stats.largest_bucket = max(stats.largest_bucket, largest)
        if len(a):
            candidates.append(sorted_unique(a.astype(np.int64) * n + b))
    if not candidates:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float32), stats
    pair_key = sorted_unique(np.concatenate(candidates))
    del candidates
    a, b = pair_key // n, pair_key % n
    stats.verified = len(a)
    sims = np.empty(len(a), dtype=np.float32)
    step = 131_072
    for lo in range(0, len(a), step):
        sims[lo:lo + step] = verify(a[lo:lo + step], b[lo:lo + step])
    keep = sims >= threshold
    stats.matched = int(keep.sum())
    return a[keep], b[keep], sims[keep], stats


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
