"""Input similarity: cosine between a tail and its source texts (query / titles). High = a paraphrase.

Each distinct text is embedded once, in chunks, into a float16 memory-mapped matrix on disk, so a
run holds one chunk of texts in RAM however many distinct tails there are. Rows then look their
vectors up by index. The same tail matrix feeds semantic dedup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from intentkg.embed import Embedder
from intentkg.progress import bar


def embed_to_memmap(embedder: Embedder, chunks: Iterable[list[str]], total: int, path: Path,
                    description: str) -> np.ndarray:
    """Embed ``total`` texts arriving in ``chunks`` into a (total, dim) float16 memmap at ``path``."""
    if total <= 0:
        return np.zeros((0, embedder.dim), dtype=np.float16)
    matrix = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(total, embedder.dim))
    start = 0
    with bar(description, total, unit="texts") as progress:
        for texts in chunks:
            if not texts:
                continue
            vectors = embedder.encode(texts)
            matrix[start:start + len(texts)] = vectors.astype(np.float16)
            start += len(texts)
            progress.advance(len(texts))
    if start != total:
        raise RuntimeError(f"expected {total} texts to embed, got {start}")
    matrix.flush()
    return matrix


def open_memmap(path: Path) -> np.ndarray:
    return np.load(path, mmap_mode="r")


def rowwise_cosine(matrix_a: np.ndarray, index_a: np.ndarray, matrix_b: np.ndarray,
                   index_b: np.ndarray) -> np.ndarray:
    """cos(a[index_a[i]], b[index_b[i]]) for each i; NaN where either index is negative."""
    out = np.full(len(index_a), np.nan, dtype=np.float64)
    ok = (index_a >= 0) & (index_b >= 0)
    if ok.any():
        a = np.asarray(matrix_a[index_a[ok]], dtype=np.float32)
        b = np.asarray(matrix_b[index_b[ok]], dtype=np.float32)
        out[ok] = np.clip(np.einsum("ij,ij->i", a, b), -1.0, 1.0)
    return out


def input_similarity(tails: np.ndarray, tail_index: np.ndarray, sources: np.ndarray,
                     source_indexes: list[np.ndarray]) -> np.ndarray:
    """Max cosine between each row's tail and any of its source texts (NaN when none is known)."""
    result = np.full(len(tail_index), np.nan, dtype=np.float64)
    for index in source_indexes:
        cos = rowwise_cosine(tails, tail_index, sources, index)
        result = np.fmax(result, cos)
    return np.round(result, 4)


def unrelated(similarities: list[float | None], floor: float | None) -> list[tuple[int, str]]:
    """(row, detail) for tails whose best cosine to their behaviour's texts is below ``floor``: the
    answer ignores the behaviour ("get a tan" for an anti-itch cream). Unknown similarities pass."""
    if floor is None:
        return []
    return [(i, f"cosine to the query and title {s:.2f} < {floor}: about something else")
            for i, s in enumerate(similarities) if s is not None and s == s and s < floor]
