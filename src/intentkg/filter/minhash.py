"""MinHash signatures of character n-grams, computed in bulk, identical to datasketch's MinHash.

``MinHash(num_perm, seed, scheme="affine32")`` from datasketch hashes each n-gram with sha1 (32 bits),
mixes it with the MurmurHash3 finaliser and takes, per permutation (a, b), the minimum of
``a * h + b mod 2**32``. We take the permutations from datasketch and run the same arithmetic over a
whole chunk of texts at once with numpy (tests check the signatures are equal), so a million tails
take seconds instead of minutes, and the signatures (4 bytes x num_perm per tail) go to a
memory-mapped file instead of a million Python objects.
"""

from __future__ import annotations

import struct
from hashlib import sha1
from pathlib import Path
from typing import Iterable

import numpy as np
from datasketch import MinHash

from intentkg.progress import bar

_M1, _M2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)
_MAX = np.uint32(0xFFFFFFFF)


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
    return list(dict.fromkeys(padded[i:i + n] for i in range(len(padded) - n + 1)))


class MinHasher:
    """Bulk MinHash over character n-grams with datasketch's affine32 permutations."""

    def __init__(self, num_perm: int = 64, ngram: int = 3, seed: int = 1):
        self.num_perm, self.ngram, self.seed = num_perm, ngram, seed
        a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
        self.a, self.b = a.astype(np.uint32), b.astype(np.uint32)
        self._cache: dict[str, int] = {}

    def _hash(self, gram: str) -> int:
        value = self._cache.get(gram)
        if value is None:
            value = struct.unpack("<I", sha1(gram.encode("utf-8")).digest()[:4])[0]
            if len(self._cache) < 2_000_000:
                self._cache[gram] = value
        return value

    def signatures(self, texts: list[str]) -> np.ndarray:
        """(len(texts), num_perm) uint32 signatures."""
        grams = [shingles(t, self.ngram) for t in texts]
        lengths = np.fromiter((len(g) for g in grams), dtype=np.int64, count=len(grams))
        hashes = np.fromiter((self._hash(x) for g in grams for x in g), dtype=np.uint32, count=int(lengths.sum()))
        mixed = _fmix32(hashes)
        permuted = mixed[:, None] * self.a[None, :] + self.b[None, :]  # wraps mod 2**32, like datasketch
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        return np.minimum.reduceat(permuted, starts, axis=0)

    def to_datasketch(self, signature: np.ndarray) -> MinHash:
        """A datasketch MinHash with this signature (for jaccard(), MinHashLSH, ...)."""
        return MinHash(num_perm=self.num_perm, seed=self.seed, scheme="affine32", hashvalues=signature)

    def signatures_to_memmap(self, chunks: Iterable[list[str]], total: int, path: Path,
                             description: str = "minhash") -> np.ndarray:
        if total <= 0:
            return np.zeros((0, self.num_perm), dtype=np.uint32)
        matrix = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint32, shape=(total, self.num_perm))
        start = 0
        with bar(description, total, unit="tails") as progress:
            for texts in chunks:
                if texts:
                    matrix[start:start + len(texts)] = self.signatures(texts)
                    start += len(texts)
                    progress.advance(len(texts))
        matrix.flush()
        return matrix


def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) for a Jaccard threshold, from datasketch's optimiser."""
    try:
        from datasketch.lsh import _optimal_param

        return tuple(int(x) for x in _optimal_param(threshold, num_perm, 0.5, 0.5))  # type: ignore[return-value]
    except ImportError:  # pragma: no cover - datasketch moved it
        best = min(((b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)),
                   key=lambda br: (abs((1 / br[0]) ** (1 / br[1]) - threshold), -br[0] * br[1]))
        return best
