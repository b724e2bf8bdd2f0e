"""A content-addressed, append-only cache of text embeddings on disk (numpy .npy, never pickle).

    cache = EmbeddingCache(ws.root / ".cache" / "embeddings", model_key="bi:all-MiniLM-L6-v2@<sha>")
    vectors = cache.encode(texts, compute=embedder.encode)

A text's key is ``sha256(model_key + "\\x1f" + text)``. Vectors live in shards under
``<root>/<model slug>-<hash of model key>/``: ``<shard>.vec.npy`` (float32, n x dim) and
``<shard>.keys.npy`` (uint8, n x 32: the raw keys). A shard counts once its keys file exists; both are
written to a temporary name and renamed, keys last, so a killed run leaves whole shards only.
Misses are computed and flushed ``flush_every`` texts at a time: a re-run with another knowledge
setting, or after a crash, only encodes texts not seen before.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from intentkg import atomic_file
from intentkg.progress import bar

Compute = Callable[[list[str]], np.ndarray]


def text_key(model_key: str, text: str) -> bytes:
    return hashlib.sha256(f"{model_key}\x1f{text}".encode()).digest()


class EmbeddingCache:
    def __init__(self, root: str | Path, model_key: str, flush_every: int = 2048):
        self.model_key = model_key
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model_key)[:48]
        self.folder = Path(root) / f"{slug}-{hashlib.sha256(model_key.encode()).hexdigest()[:12]}"
        self.flush_every = flush_every
        self._index: dict[bytes, tuple[int, int]] | None = None
        self._shards: list[np.ndarray] = []
        self.hits = 0
        self.misses = 0

    # -- reading ---------------------------------------------------------------------------
    def _load(self) -> dict[bytes, tuple[int, int]]:
        if self._index is None:
            self._index = {}
            if self.folder.exists():
                for keys_file in sorted(self.folder.glob("*.keys.npy")):
                    vec_file = keys_file.with_name(keys_file.name.replace(".keys.npy", ".vec.npy"))
                    if not vec_file.exists():
                        continue
                    keys = np.load(keys_file, allow_pickle=False)
                    vectors = np.load(vec_file, allow_pickle=False, mmap_mode="r")
                    if len(keys) != len(vectors):
                        continue  # not a whole shard: ignore it
                    self._add_shard(keys, vectors)
        return self._index

    def _add_shard(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        assert self._index is not None
        shard = len(self._shards)
        self._shards.append(vectors)
        for row, key in enumerate(np.asarray(keys, dtype=np.uint8).reshape(-1, 32)):
            self._index.setdefault(key.tobytes(), (shard, row))

    def __len__(self) -> int:
        return len(self._load())

    # -- writing ---------------------------------------------------------------------------
    def _write_shard(self, keys: list[bytes], vectors: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(b"".join(keys)).hexdigest()[:20]
        key_array = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(-1, 32)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        for suffix, array in ((".vec.npy", vectors), (".keys.npy", key_array)):
            final = self.folder / f"{name}{suffix}"
            with atomic_file.replacing(final) as tmp, open(tmp, "wb") as handle:
                np.save(handle, array, allow_pickle=False)
        self._add_shard(key_array, vectors)

    # -- the one call ----------------------------------------------------------------------
    def encode(self, texts: Sequence[str], compute: Compute, description: str = "embedding") -> np.ndarray:
        """Vectors for ``texts`` (in order), computing and storing only the ones not cached."""
        index = self._load()
        keys = [text_key(self.model_key, t) for t in texts]
        todo: dict[bytes, str] = {}
        for key, text in zip(keys, texts):
            if key not in index and key not in todo:
                todo[key] = text
        self.misses += len(todo)
        self.hits += len(texts) - sum(1 for k in keys if k in todo)
        if todo:
            pending = list(todo.items())
            with bar(description, total=len(pending), unit="texts") as progress:
                for start in range(0, len(pending), self.flush_every):
                    chunk = pending[start:start + self.flush_every]
                    vectors = np.asarray(compute([t for _, t in chunk]), dtype=np.float32)
                    if vectors.shape[0] != len(chunk):
                        raise RuntimeError(f"encoder returned {vectors.shape[0]} vectors for {len(chunk)} texts")
                    self._write_shard([k for k, _ in chunk], vectors)
                    progress.advance(len(chunk))
        if not keys:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        return np.stack([self._shards[s][r] for s, r in (index[k] for k in keys)]).astype(np.float32, copy=False)

    @property
    def dim(self) -> int | None:
        self._load()
        return int(self._shards[0].shape[1]) if self._shards else None
