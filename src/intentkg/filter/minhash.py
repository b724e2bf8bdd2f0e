"""MinHash signatures of character n-grams, computed in bulk, identical to datasketch's MinHash.

``MinHash(num_perm, seed, scheme="affine32")`` from datasketch hashes each n-gram with sha1 (32 bits),
mixes it with the MurmurHash3 finaliser and takes, per permutation (a, b), the minimum of
``a * h + b mod 2**32``. We take the permutations from datasketch and run the same arithmetic over a
whole chunk of texts at once with numpy (tests check the signatures are equal), so a million tails
take seconds instead of minutes, and the signatures (4 bytes x num_perm per tail) go to a
memory-mapped file instead of a million Python objects. The n-grams themselves are windows over the
texts' code points in numpy (``MinHasher.gram_hashes``); ``shingles`` is their definition, one text
at a time.
"""

from __future__ import annotations

import struct
from hashlib import sha1
from pathlib import Path
from typing import Iterable

import numpy as np
from datasketch import MinHash

from intentkg.filter.lsh import sorted_unique
from intentkg.filter.shingle_sets import ShingleSets
from intentkg.progress import bar

_M1, _M2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)
_MAX = np.uint32(0xFFFFFFFF)
_NO_CHAR = np.uint32(0x1FFFFF)  # no code point: the place of a missing character in a short text's n-gram


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * _M1
    h = h ^ (h >> np.uint32(13))
    h = h * _M2
    return h ^ (h >> np.uint32(16))


def shingles(text: str, n: int) -> list[str]:
    """Character n-grams of ' text ' (padded so word starts and ends count); the text itself when short."""
    padded = f" {text} "
    if len(padded) <= n:
        return [padded]
    return list(dict.fromkeys([padded[i:i + n] for i in range(len(padded) - n + 1)]))


class MinHasher:
    """Bulk MinHash over character n-grams with datasketch's affine32 permutations."""

    def __init__(self, num_perm: int = 64, ngram: int = 3, seed: int = 1):
        self.num_perm, self.ngram, self.seed = num_perm, ngram, seed
        a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
        self.a, self.b = a.astype(np.uint32), b.astype(np.uint32)
        self._cache: dict[int | bytes, int] = {}  # an n-gram's code points (packed) -> its hash

    def gram_hashes(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The 32-bit hash of every n-gram of every text (those of ``shingles``, a repeat within a text
        included) and how many each text has: the n-grams are windows over the texts' code points
        (numpy), and sha1 runs once per distinct n-gram ever seen."""
        n = self.ngram
        padded = [f" {t} " for t in texts]
        codes = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32)
        size = np.fromiter(map(len, padded), dtype=np.int64, count=len(padded))
        lengths = np.maximum(size - n + 1, 1)  # a text shorter than n: one n-gram, the padded text itself
        owner = np.repeat(np.arange(len(texts)), lengths)
        start = np.repeat(np.cumsum(size) - size, lengths) + np.arange(int(lengths.sum())) \
            - np.repeat(np.cumsum(lengths) - lengths, lengths)
        window = np.full((len(start), n), _NO_CHAR, dtype=np.uint32)  # code points; _NO_CHAR past a short text
        for k in range(n):
            inside = k < size[owner]
            window[inside, k] = codes[start[inside] + k]
        if n * 21 <= 64:  # code points have 21 bits: pack the window into one integer
            packed = np.zeros(len(start), dtype=np.uint64)
            for k in range(n):
                packed = (packed << np.uint64(21)) | window[:, k].astype(np.uint64)
            distinct = sorted_unique(packed)
            inverse = np.searchsorted(distinct, packed)  # (np.unique's argsort is several times slower)
            names = distinct.tolist()
        else:
            distinct, inverse = np.unique(np.ascontiguousarray(window).view(f"V{4 * n}").ravel(),
                                          return_inverse=True)
            names = [bytes(v) for v in distinct]
        if len(self._cache) > 2_000_000:
            self._cache.clear()
        cache = self._cache
        for name in [name for name in names if name not in cache]:  # sha1 once per n-gram ever seen
            points = ([(name >> (21 * (n - 1 - k))) & 0x1FFFFF for k in range(n)] if isinstance(name, int)
                      else np.frombuffer(name, dtype=np.uint32).tolist())
            gram = "".join(chr(c) for c in points if c != _NO_CHAR)
            cache[name] = struct.unpack("<I", sha1(gram.encode("utf-8")).digest()[:4])[0]
        table = np.fromiter(map(cache.__getitem__, names), dtype=np.uint32, count=len(names))
        return table[inverse.reshape(-1)], lengths

    def signatures(self, texts: list[str], sets: ShingleSets | None = None, block: int = 1024) -> np.ndarray:
        """(len(texts), num_perm) uint32 signatures; the n-gram hash sets are appended to ``sets``."""
        hashes, lengths = self.gram_hashes(texts)
        if sets is not None:
            sets.append(hashes, lengths)
        mixed = _fmix32(hashes)
        ends = np.cumsum(lengths)
        out = np.empty((len(texts), self.num_perm), dtype=np.uint32)
        for lo in range(0, len(texts), block):  # some 25 k n-grams at a time: the temporaries stay in cache
            hi = min(lo + block, len(texts))
            first, last = int(ends[lo] - lengths[lo]), int(ends[hi - 1])
            permuted = self.a[:, None] * mixed[None, first:last] + self.b[:, None]  # wraps mod 2**32, like datasketch
            # (permutation, n-gram): each tail's n-grams are contiguous in a row, where reduceat is fast
            out[lo:hi] = np.minimum.reduceat(permuted, ends[lo:hi] - lengths[lo:hi] - first, axis=1).T
        return out

    def to_datasketch(self, signature: np.ndarray) -> MinHash:
        """A datasketch MinHash with this signature (for jaccard(), MinHashLSH, ...)."""
        return MinHash(num_perm=self.num_perm, seed=self.seed, scheme="affine32", hashvalues=signature)

    def signatures_to_memmap(self, chunks: Iterable[list[str]], total: int, path: Path,
                             description: str = "minhash", sets: ShingleSets | None = None) -> np.ndarray:
        if total <= 0:
            return np.zeros((0, self.num_perm), dtype=np.uint32)
        matrix = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint32, shape=(total, self.num_perm))
        start = 0
        with bar(description, total, unit="tails") as progress:
            for texts in chunks:
                if texts:
                    matrix[start:start + len(texts)] = self.signatures(texts, sets)
                    start += len(texts)
                    progress.advance(len(texts))
        matrix.flush()
        return matrix


def candidate_probability(similarity: np.ndarray | float, bands: int, rows: int) -> np.ndarray | float:
    """P(a pair of Jaccard ``similarity`` shares at least one of ``bands`` bands of ``rows`` MinHash rows)."""
    return 1.0 - (1.0 - np.power(similarity, rows)) ** bands


def lsh_params(threshold: float, num_perm: int, recall: float = 0.99) -> tuple[int, int]:
    """(bands, rows per band) for banded MinHash LSH at a Jaccard ``threshold``.

    A pair of Jaccard s becomes a candidate with probability P(s) = 1 - (1 - s^rows)^bands, which
    grows with s. Among all (bands, rows) with bands x rows <= num_perm and P(threshold) >= ``recall``
    (so every pair at or above the threshold is found with at least that probability), take the one
    with the smallest false-positive area, the integral of P(s) over [0, threshold] (the fewest pairs
    below the threshold to verify); ties: fewer permutations used. When no pair reaches ``recall``,
    the one with the highest P(threshold). E.g. 0.8 with 64 permutations: 12 bands of 5 rows,
    P(0.8) = 0.9915. (datasketch's own optimiser weighs false positives and negatives equally and
    is private API; this rule states the recall it buys.)
    """
    grid = np.linspace(0.0, threshold, 257)
    best, best_key = None, None
    for rows in range(1, num_perm + 1):
        for bands in range(1, num_perm // rows + 1):
            at_threshold = float(candidate_probability(threshold, bands, rows))
            false_area = float(np.trapezoid(candidate_probability(grid, bands, rows), grid))
            key = (0, false_area, bands * rows) if at_threshold >= recall else (1, -at_threshold, bands * rows)
            if best_key is None or key < best_key:
                best, best_key = (bands, rows), key
    return best  # type: ignore[return-value]
