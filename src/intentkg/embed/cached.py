"""A sentence embedder whose vectors are cached on disk per workspace: the one embedding behind the
knowledge lookup's nearest-neighbour policy (evaluation, serving precompute/refresh, ``kg query``)
and the evaluation's bi-encoder.

    embedder = CachedEmbedder("all-MiniLM-L6-v2", cache_root=ws.root / ".cache" / "embeddings")
    embedder.embed(["winter camping gear"])     # (1, 384) float32, unit rows

The cache key is the model id plus a hash of its weights, so every caller that names the same model
reads the same vectors: the nearest neighbours the evaluation measured are the ones serving uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from intentkg.embed.cache import EmbeddingCache

DEFAULT_MODEL = "all-MiniLM-L6-v2"  # the bundled MiniLM


def weights_hash(folder: str | None) -> str:
    """A short hash of a model folder's weights (safetensors), or 'unknown' when there are none."""
    if not folder:
        return "unknown"
    from intentkg.errors import ConfigError
    from intentkg.model_folder import resolve

    try:
        return resolve(folder, require=()).weights_hash()[:16]
    except ConfigError:
        return "unknown"


def cache_root(workspace_root: str | Path) -> Path:
    """Where a workspace keeps its embedding cache."""
    return Path(workspace_root) / ".cache" / "embeddings"


class CachedEmbedder:
    def __init__(self, spec: str = DEFAULT_MODEL, device: str = "cpu", cache_root: str | Path | None = None,
                 batch_size: int = 64):
        from intentkg.embed import load_embedder

        self.spec = spec
        self.embedder = load_embedder(spec, device=device, batch_size=batch_size)
        self.path = getattr(self.embedder, "path", None)
        self.model_id = self.embedder.model_id
        self.model_key = f"bi:{self.model_id}@{weights_hash(str(self.path) if self.path else None)}"
        self.cache = EmbeddingCache(cache_root, self.model_key) if cache_root else None

    @property
    def weights_file(self) -> Path | None:
        files = sorted(Path(self.path).glob("*.safetensors")) if self.path else []
        return files[0] if files else None

    def embed(self, texts: Sequence[str], description: str = "embedding") -> np.ndarray:
        """Unit vectors for ``texts``, in order; only texts not cached are encoded."""
        texts = list(texts)
        if self.cache is None:
            return self.embedder.encode(texts)
        return self.cache.encode(texts, self.embedder.encode, description)

    __call__ = embed
