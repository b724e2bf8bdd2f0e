"""A trainable transformers causal LM and its tokenizer, from a Hugging Face model or a GGUF file.

    base = load_trainable("smollm2-135m-instruct")          # bundled GGUF (also gemma3-270m)
    base = load_trainable("/models/Qwen2.5-1.5B-Instruct")  # a folder of safetensors + configs
    base.model, base.tokenizer, base.model_id, base.model_hash, base.folder

- A Hugging Face folder or Hub id goes through :func:`intentkg.model_folder.resolve` (the local
  cache only under ``HF_HUB_OFFLINE=1``; safetensors only, pickled weights refused; never
  ``trust_remote_code``).
- A GGUF file (a bundled alias, a ``.gguf`` path) is de-quantised by transformers (``gguf_file=``).
  The model that comes back still carries a GGUF ``quantization_config`` and cannot be trained or
  saved as it is, so it is rebuilt from its config (``from_config`` with that entry dropped), its
  weights copied in, and the result saved once as a plain safetensors folder in the user cache
  (``<cache>/trainable/<sha256 of the GGUF>``). Later loads read that folder (seconds, not the
  ~20-60 s de-quantisation). ``base.folder`` is the safetensors folder either way. transformers parses
  the GGUF's metadata afresh for the tokenizer's config, the model's config and the weights (gguf-py's
  reader: ~10-30 s each for Gemma 3's 262k-token vocabulary); the conversion parses it once
  (:func:`_one_gguf_parse`).

``model_id`` and ``model_hash`` name the base as the user gave it: the alias / path / id and the
sha256 of the GGUF file (or of the folder's weights and configs), as the generation backends record
them. The device is CUDA when present, else CPU (``device=`` overrides).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intentkg import atomic_file
from intentkg.errors import ConfigError
from intentkg.llm import bundled
from intentkg.llm.model_files import cache_dir, file_hash
from intentkg.model_folder import resolve

CONVERTED_MARKER = "intentkg-from-gguf.json"


@dataclass
class TrainableBase:
    model: Any  # a transformers PreTrainedModel on ``device``
    tokenizer: Any
    model_id: str  # what the user gave: alias, GGUF path, folder or Hub id
    model_hash: str  # sha256 of the GGUF file, or of the folder's weights and configs
    source: str  # "gguf" or "hf"
    folder: Path  # the safetensors folder the weights were read from
    device: str

    def describe(self) -> dict[str, str]:
        """What a manifest records about the base."""
        return {"model_id": self.model_id, "model_hash": self.model_hash, "source": self.source,
                "folder": str(self.folder)}


def pick_device(device: str = "auto") -> str:
    """``auto``: CUDA when present, else CPU."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def gguf_path_of(model: str) -> Path | None:
    """The GGUF file ``model`` names (a bundled alias or a ``.gguf`` path), or None for a HF model."""
    path = bundled.resolve(model)
    if path is not None:
        return path
    local = Path(model).expanduser()
    if local.suffix == ".gguf":
        if not local.is_file():
            raise ConfigError(f"base model {model!r}: no such GGUF file")
        return local
    return None


def resolve_base(model: str) -> tuple[Path, str, str]:
    """(safetensors folder, source, model_hash) for ``model``; converts a GGUF once into the cache."""
    gguf = gguf_path_of(model)
    if gguf is not None:
        digest = file_hash(gguf)
        return gguf_to_folder(gguf, digest), "gguf", digest
    folder = resolve(model, what="base model")
    return folder.path, "hf", folder.hash()


@contextmanager
def _one_gguf_parse() -> Iterator[None]:
    """Within: gguf-py's ``GGUFReader`` is built once per (file, mode) and handed back again (it maps the
    file read-only; transformers only reads it), so the three loads of one conversion parse the GGUF once."""
    import gguf as gguf_py

    original = gguf_py.GGUFReader
    readers: dict[tuple[str, str], Any] = {}

    def reader(path, mode="r"):
        key = (str(Path(path).resolve()), mode)
        if key not in readers:
            readers[key] = original(path, mode)
        return readers[key]

    gguf_py.GGUFReader = reader
    try:
        yield
    finally:
        gguf_py.GGUFReader = original


def gguf_to_folder(gguf: Path, digest: str | None = None) -> Path:
    """A safetensors folder (config, weights, tokenizer) holding ``gguf`` de-quantised; cached by hash."""
    digest = digest or file_hash(gguf)
    target = cache_dir() / "trainable" / digest[:32]
    if (target / CONVERTED_MARKER).is_file():
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with _one_gguf_parse():
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the de-quantised weights are plain tensors now
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    tied = {k for k in missing if "lm_head" in k} if getattr(config, "tie_word_embeddings", False) else set()
    if set(missing) - tied or unexpected:
        raise ConfigError(f"{gguf}: rebuilding the model from its config left weights missing {sorted(missing)[:5]} "
                          f"or unexpected {sorted(unexpected)[:5]}; this architecture is not supported from GGUF")
    model.tie_weights()
    if getattr(model, "generation_config", None) is not None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id or tokenizer.eos_token_id
    with atomic_file.replacing_folder(target) as staging:  # a killed conversion leaves no half cache entry
        model.save_pretrained(str(staging), safe_serialization=True)
        tokenizer.save_pretrained(str(staging))
        atomic_file.write_json(staging / CONVERTED_MARKER, {"gguf": str(gguf), "sha256": digest}, indent=2)
    return target


def load_trainable(model: str, device: str = "auto", dtype: str = "float32") -> TrainableBase:
    """The base ``model`` as a trainable transformers model (train mode off; the trainer switches it)."""
    import torch
    from transformers import AutoModelForCausalLM

    path, source, digest = resolve_base(model)
    folder = resolve(path, what="base model")
    torch_dtype = getattr(torch, dtype) if dtype != "auto" else "auto"
    loaded = folder.load(AutoModelForCausalLM, dtype=torch_dtype)
    tokenizer = folder.tokenizer()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    where = pick_device(device)
    return TrainableBase(loaded.to(where), tokenizer, model, digest, source, path, where)

