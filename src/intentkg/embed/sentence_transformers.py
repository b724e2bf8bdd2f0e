"""The sentence-transformers backend: any local sentence-transformers folder, CPU or GPU, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from intentkg.errors import ConfigError


class SentenceTransformerEmbedder:
    def __init__(self, path: Path, device: str = "cpu", batch_size: int = 128):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigError("the sentence-transformers embedder needs `pip install intentkg[filter]`") from exc
        if not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise ConfigError(f"{path} is not a sentence-transformers model folder (no modules.json or config.json)")
        self.path = path
        self.model = SentenceTransformer(str(path), device=device, local_files_only=True)
        self.batch_size = batch_size
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.model_id = path.name if path.name != "model" else path.parent.name

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def load(path: Path, device: str, batch_size: int) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(path, device, batch_size)
