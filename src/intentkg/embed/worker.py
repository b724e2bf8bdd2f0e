"""An embedder as an engine worker: one model per process, batch of texts in, vectors out.

Used where an engine runs the encoding on a cluster: the filter's tail and source-text embeddings
and the evaluation's bi-encoder (:mod:`intentkg.engine`)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def vectors_column(vectors: np.ndarray) -> pa.FixedSizeListArray:
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1), pa.float32())
    return pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])


def column_vectors(column, dim: int) -> np.ndarray:
    """The (rows, dim) float32 matrix of a :func:`vectors_column` column."""
    array = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    return np.asarray(array.flatten().to_numpy(zero_copy_only=False), dtype=np.float32).reshape(-1, dim)


class EmbedWorker:
    """Unit vectors of the texts in column ``text``, kept with the index column ``i``."""

    def __init__(self, spec: str, device: str, batch_size: int):
        from intentkg.embed import load_embedder

        self.embedder = load_embedder(spec, device, batch_size)

    def __call__(self, batch: pa.Table) -> pa.Table:
        vectors = self.embedder.encode(batch.column("text").to_pylist())
        return pa.table({"i": batch.column("i"), "vector": vectors_column(vectors)})
