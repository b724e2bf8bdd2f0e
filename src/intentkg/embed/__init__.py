"""Sentence embedders behind one small protocol: ``encode(texts) -> (n, dim) float32, L2-normalised``."""

from intentkg.embed.base import Embedder, load_embedder, register_backend

__all__ = ["Embedder", "load_embedder", "register_backend"]
