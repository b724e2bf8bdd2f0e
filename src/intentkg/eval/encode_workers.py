"""The evaluation's encoders on an engine (``engine: ray``): texts the embedding cache misses are
encoded by Ray tasks, each worker process building one encoder once; the cache and everything after it stay on
the driver. Locally the encoders run in this process as before."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyarrow as pa

from intentkg.embed.worker import column_vectors, vectors_column


class CrossEncodeWorker:
    """Mean-pooled last hidden states of joint texts (column ``text``), as :class:`CrossEncoder` computes."""

    def __init__(self, spec: str, device: str, max_length: int):
        from intentkg.eval.features import CrossEncoder

        self.encoder = CrossEncoder(spec, device, cache_root=None, max_length=max_length)

    def __call__(self, batch: pa.Table) -> pa.Table:
        vectors = self.encoder._encode(batch.column("text").to_pylist())
        return pa.table({"i": batch.column("i"), "vector": vectors_column(vectors)})


class PoolEncoder:
    """``encode(texts)`` through an engine pool, in blocks of ``rows`` texts (the embedder protocol)."""

    def __init__(self, pool, dim: int, rows: int):
        self.pool, self.dim, self.rows = pool, dim, rows

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        blocks = [pa.table({"i": pa.array(range(s, min(s + self.rows, len(texts))), pa.int64()),
                            "text": texts[s:s + self.rows]}) for s in range(0, len(texts), self.rows)]
        return np.vstack([column_vectors(out.column("vector"), self.dim) for out in self.pool.map(blocks)])


def on_engine(engine, bi, cross, config) -> list:
    """Route the misses of ``bi`` / ``cross`` (either may be None) through ``engine``'s workers; returns
    the pools to close."""
    from intentkg.embed.worker import EmbedWorker

    pools, rows = [], engine.settings.rows_per_block
    if bi is not None:
        pool = engine.pool(EmbedWorker, (bi.spec, config.device, 64))
        bi.embedder = _Named(PoolEncoder(pool, bi.embedder.dim, rows), bi.embedder)
        pools.append(pool)
    if cross is not None:
        pool = engine.pool(CrossEncodeWorker, (config.cross_model, config.device, config.cross_max_length))
        cross._encode = PoolEncoder(pool, cross.model.config.hidden_size, rows).encode
        pools.append(pool)
    return pools


class _Named:
    """The driver's embedder's identity (id, path, dim) with the pool's ``encode``."""

    def __init__(self, encoder: PoolEncoder, local):
        self.encode, self.dim = encoder.encode, local.dim
        self.model_id, self.path = local.model_id, getattr(local, "path", None)
