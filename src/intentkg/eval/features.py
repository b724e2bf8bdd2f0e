"""Frozen-encoder features for (query, product) pairs, with or without knowledge text.

Two encoders, both frozen (only a head on top is trained):

- :class:`BiEncoder` embeds the query side and the product side separately with a sentence
  embedder (default the bundled all-MiniLM-L6-v2) and returns ``[q, p, q*p, |q-p|]``.
  With knowledge, the query side is ``query [SEP] query intent: ...`` and the product side
  ``product [SEP] product: ...``; the feature layout is the same.
- :class:`CrossEncoder` runs a transformers encoder (default the same MiniLM weights) over the
  joint text ``query [SEP] product [SEP] knowledge`` and mean-pools the last hidden states.

Every vector goes through :class:`~intentkg.embed.cache.EmbeddingCache`, keyed by the
model's id and weights hash, so a second run (another knowledge setting, another head, another
seed) only encodes texts it has not seen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from intentkg.errors import ConfigError
from intentkg.embed.cache import EmbeddingCache
from intentkg.embed.cached import DEFAULT_MODEL, CachedEmbedder, weights_hash
from intentkg.knowledge.text import SEP

def quiet_transformers() -> None:
    """No per-model 'Loading weights' bars: the stage shows its own progress."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass


def pair_features(q: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.hstack([q, p, q * p, np.abs(q - p)]).astype(np.float32, copy=False)


class BiEncoder(CachedEmbedder):
    """The sentence embedder of :mod:`intentkg.embed.cached` (also the nearest-head fallback's
    embedding), with pair features on top."""

    name = "bi"

    def __init__(self, spec: str = DEFAULT_MODEL, device: str = "cpu", cache_root: str | Path | None = None,
                 batch_size: int = 64):
        quiet_transformers()
        super().__init__(spec, device, cache_root, batch_size)

    def features(self, query_texts: Sequence[str], product_texts: Sequence[str]) -> np.ndarray:
        unique = sorted(set(query_texts) | set(product_texts))
        vectors = self.embed(unique, "bi-encoder: queries and products")
        row = {t: i for i, t in enumerate(unique)}
        q = vectors[[row[t] for t in query_texts]]
        p = vectors[[row[t] for t in product_texts]]
        return pair_features(q, p)


class CrossEncoder:
    name = "cross"

    def __init__(self, spec: str = DEFAULT_MODEL, device: str = "cpu", cache_root: str | Path | None = None,
                 batch_size: int = 32, max_length: int = 256):
        try:
            import torch
            from transformers import AutoModel
        except ImportError as exc:
            raise ConfigError("the cross-encoder needs `pip install intentkg[train]` (torch, transformers)") from exc
        from intentkg.model_folder import resolve

        quiet_transformers()
        folder = resolve(spec, what="cross-encoder")
        self.folder = folder.path
        self.torch, self.device = torch, device
        self.tokenizer = folder.tokenizer()
        self.model = folder.load(AutoModel)
        self.model.to(device).eval()
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)
        self.batch_size, self.max_length = batch_size, max_length
        self.model_id = spec if not Path(spec).exists() else self.folder.name
        self.model_key = f"cross-meanpool:{self.model_id}@{weights_hash(str(self.folder))}:{max_length}"
        self.cache = EmbeddingCache(cache_root, self.model_key) if cache_root else None

    @property
    def weights_file(self) -> Path | None:
        files = sorted(self.folder.glob("*.safetensors"))
        return files[0] if files else None

    def _encode(self, texts: list[str]) -> np.ndarray:
        torch = self.torch
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths share a batch
        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                idx = order[start:start + self.batch_size]
                batch = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                       max_length=self.max_length, return_tensors="pt").to(self.device)
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
                out[idx] = pooled.float().cpu().numpy()
        return out

    def features(self, joint_texts: Sequence[str]) -> np.ndarray:
        unique = sorted(set(joint_texts))
        if self.cache is None:
            vectors = self._encode(unique)
        else:
            vectors = self.cache.encode(unique, self._encode, "cross-encoder: joint texts")
        row = {t: i for i, t in enumerate(unique)}
        return vectors[[row[t] for t in joint_texts]]


def joint_text(query: str, product: str, knowledge: str = "") -> str:
    """``query [SEP] product [SEP] knowledge`` (no trailing separator without knowledge)."""
    text = f"{query}{SEP}{product}"
    return f"{text}{SEP}{knowledge}" if knowledge else text
