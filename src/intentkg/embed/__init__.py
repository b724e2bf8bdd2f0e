"""Sentence embedders behind one small protocol: ``encode(texts) -> (n, dim) float32, L2-normalised``."""

from intentkg.embed.base import Embedder, load_embedder, register_backend
from intentkg.embed.bundled import BUNDLED_MODELS, bundled_model_path

__all__ = ["BUNDLED_MODELS", "Embedder", "bundled_model_path", "load_embedder", "register_backend"]
