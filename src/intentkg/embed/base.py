"""The embedder protocol and the registry of backends.

An embedder turns texts into L2-normalised float32 vectors, so a dot product is a cosine. A backend
is one file with a loader; the built-in ones are registered by :func:`_load_builtin_backends`, a
plugin registers its own::

    @register_backend("my-backend")
    def load(folder: ModelFolder, device: str, batch_size: int) -> Embedder: ...

``load_embedder("all-MiniLM-L6-v2")`` finds the bundled model; any local folder (or cached Hub id)
works too, found and checked by :func:`intentkg.model_folder.resolve` (safetensors only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Protocol, Sequence, runtime_checkable

import numpy as np

from intentkg.errors import ConfigError
from intentkg.model_folder import ModelFolder, resolve


@runtime_checkable
class Embedder(Protocol):
    model_id: str  # a stable name for manifests
    dim: int
    path: Path | None  # local weights folder, hashed into manifests when set

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32 rows of unit length."""
        ...


Loader = Callable[[ModelFolder, str, int], Embedder]
BACKENDS: dict[str, Loader] = {}


def register_backend(name: str) -> Callable[[Loader], Loader]:
    def decorator(loader: Loader) -> Loader:
        BACKENDS[name] = loader
        return loader
    return decorator


def load_embedder(spec: str, device: str = "cpu", batch_size: int = 128,
                  backend: str = "sentence-transformers") -> Embedder:
    """Load a bundled model by name (e.g. all-MiniLM-L6-v2), a model folder by path, or a cached Hub id."""
    folder = resolve(spec, what="embedder", require=("modules.json|config.json",))
    if backend not in BACKENDS:
        _load_builtin_backends()
    if backend not in BACKENDS:
        raise ConfigError(f"embedder backend {backend!r} is unknown; known: {', '.join(sorted(BACKENDS))}")
    embedder = BACKENDS[backend](folder, device, batch_size)
    embedder.model_id = spec if not Path(spec).expanduser().exists() else folder.path.resolve().name
    return embedder


def _load_builtin_backends() -> None:
    """The built-in backends, registered from here: a backend module does not import this registry back."""
    from intentkg.embed import sentence_transformers

    BACKENDS.setdefault("sentence-transformers", sentence_transformers.load)
