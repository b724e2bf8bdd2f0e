"""Each distinct tail's set of hashed character n-grams, for exact Jaccard of candidate pairs.

LSH only proposes pairs; a pair is kept when the exact Jaccard of its two n-gram sets reaches the
threshold (the MinHash estimate with 64 permutations has a standard deviation of ~0.05 at 0.8, so
verifying with it would drop about half the true pairs near the threshold and keep false ones).
The sets are the same 32-bit n-gram hashes MinHash starts from, stored flat and sorted per tail
(CSR: ``values`` plus ``offsets``), memory-mapped: ~4 B per n-gram, 25 or so per tail.

Most candidate pairs are far below the threshold, and two exact bounds tell without the sets
(:meth:`ShingleSets.may_reach`): Jaccard <= smaller / larger size, and, with each set's
n-grams counted in ``BUCKETS`` buckets by hash (``buckets``, 64 B per tail, memory-mapped),
|A & B| <= sum over the buckets of min(count in A, count in B), so Jaccard <= that / (|A| + |B| -
that). At 100 k synthetic candidates the two leave 2.2 % of the LSH's candidate pairs for the exact
check, and never one whose Jaccard reaches the threshold.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from intentkg.filter.lsh import sorted_unique


BUCKETS = 64  # per-bucket counts of a set's n-grams (uint8: exact for sets of up to 255 n-grams)
_SLACK = 1e-6  # the bounds keep a pair this close below the threshold (float rounding of the exact value)


class ShingleSets:
    """Sorted unique n-gram hashes per row, appended chunk by chunk, then memory-mapped."""

    def __init__(self, path: Path, total: int):
        self.path, self.total = path, total
        self.offsets = np.zeros(total + 1, dtype=np.int64)
        self._rows = 0
        self._handle = open(path, "wb")
        self.values: np.ndarray | None = None
        self.buckets = (np.lib.format.open_memmap(path.with_name(path.name + ".buckets.npy"), mode="w+",
                                                  dtype=np.uint8, shape=(total, BUCKETS))
                        if total else np.zeros((0, BUCKETS), dtype=np.uint8))

    def append(self, hashes: np.ndarray, lengths: np.ndarray) -> None:
        """Add rows whose n-gram hashes are ``hashes`` (flat, ``lengths[i]`` for row i)."""
        rows = np.repeat(np.arange(len(lengths), dtype=np.uint64), lengths)
        keys = sorted_unique((rows << np.uint64(32)) | hashes.astype(np.uint64))  # sorted, unique within a row
        values = (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        owner = (keys >> np.uint64(32)).astype(np.int64)
        counts = np.bincount(owner, minlength=len(lengths))
        per_bucket = np.bincount(owner * BUCKETS + (values % BUCKETS), minlength=len(lengths) * BUCKETS)
        self.buckets[self._rows:self._rows + len(lengths)] = np.minimum(per_bucket, 255).reshape(-1, BUCKETS)
        start = self.offsets[self._rows]
        self.offsets[self._rows + 1:self._rows + 1 + len(lengths)] = start + np.cumsum(counts)
        self._rows += len(lengths)
        self._handle.write(values.tobytes())

    def finish(self) -> "ShingleSets":
        self._handle.close()
        if isinstance(self.buckets, np.memmap):
            self.buckets.flush()
        size = int(self.offsets[self._rows])
        self.values = (np.memmap(self.path, dtype=np.uint32, mode="r", shape=(size,)) if size
                       else np.zeros(0, dtype=np.uint32))
        return self

    def __getstate__(self) -> dict:
        """A finished set travels (to a cluster's workers, ``engine: ray``) without its closed file handle."""
        state = dict(self.__dict__)
        state.pop("_handle", None)
        for name in ("values", "buckets"):
            if state.get(name) is not None:
                state[name] = np.asarray(state[name])
        return state

    def sizes(self, rows: np.ndarray) -> np.ndarray:
        return self.offsets[rows + 1] - self.offsets[rows]

    def may_reach(self, a: np.ndarray, b: np.ndarray, threshold: float) -> np.ndarray:
        """Per pair: False where the bounds (module doc) show its Jaccard is below ``threshold``."""
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        size_a, size_b = self.sizes(a), self.sizes(b)
        out = np.minimum(size_a, size_b) >= threshold * np.maximum(size_a, size_b) - _SLACK
        worth = np.flatnonzero(out)
        size_a, size_b = size_a[worth], size_b[worth]
        common = np.minimum(self.buckets[a[worth]], self.buckets[b[worth]]).sum(axis=1, dtype=np.int64)
        big = (size_a > 255) | (size_b > 255)  # a count may have been capped at 255: no bound
        out[worth] = big | (common >= threshold * (size_a + size_b - common) - _SLACK)
        return out

    def jaccard(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Exact Jaccard of the sets of rows a[i] and b[i] (vectorised over the pairs)."""
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        if not len(a):
            return np.zeros(0, dtype=np.float32)
        size_a, size_b = self.sizes(a), self.sizes(b)
        pair = np.arange(len(a), dtype=np.uint64) << np.uint64(32)
        keys_a = np.repeat(pair, size_a) | self._gather(a, size_a)  # sorted: pair, then hash
        keys_b = np.repeat(pair, size_b) | self._gather(b, size_b)
        # both key runs are sorted and unique within a set: one merge (timsort finds the two runs) puts
        # each shared n-gram of a pair next to its twin (a binary search per key was 5x slower)
        merged = np.sort(np.concatenate([keys_a, keys_b]), kind="stable")
        twins = merged[1:][merged[1:] == merged[:-1]]
        common = np.bincount((twins >> np.uint64(32)).astype(np.int64), minlength=len(a))
        union = size_a + size_b - common
        return np.where(union > 0, common / np.maximum(union, 1), 1.0).astype(np.float32)

    def _gather(self, rows: np.ndarray, sizes: np.ndarray) -> np.ndarray:
        shift = self.offsets[rows] - (np.cumsum(sizes) - sizes)  # source start - output start, per row
        return np.asarray(self.values[np.arange(int(sizes.sum())) + np.repeat(shift, sizes)], dtype=np.uint64)
