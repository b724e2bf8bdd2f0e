"""The sentence-transformers backend: any local sentence-transformers folder, CPU or GPU, offline."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from intentkg.errors import ConfigError
from intentkg.model_folder import ModelFolder


class SentenceTransformerEmbedder:
    def __init__(self, folder: ModelFolder, device: str = "cpu", batch_size: int = 128):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigError("the sentence-transformers embedder needs `pip install intentkg[filter]`") from exc
        self.path = folder.path
        try:  # the folder is checked (safetensors only); no remote code, no download
            self.model = SentenceTransformer(str(folder.path), device=device, local_files_only=True,
                                             trust_remote_code=False, model_kwargs={"use_safetensors": True})
        except (OSError, ValueError, RuntimeError) as exc:
            raise folder.load_error(exc) from None
        self.batch_size = batch_size
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.model_id = self.path.name if self.path.name != "model" else self.path.parent.name

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def load(folder: ModelFolder, device: str, batch_size: int) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(folder, device, batch_size)
