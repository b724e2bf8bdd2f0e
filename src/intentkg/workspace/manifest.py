"""manifest.json: what a stage ran with, what it read, what it wrote, how long it took."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from intentkg import __version__, atomic_file
from intentkg.errors import IntentkgError

MANIFEST_NAME = "manifest.json"


@dataclass
class InputRef:
    kind: str  # "file" or "stage"
    name: str  # path as given, or stage name
    sha256: str
    bytes: int | None = None


@dataclass
class ModelRef:
    role: str  # generator, embedder, critic, judge, ...
    model_id: str
    file: str | None = None
    sha256: str | None = None


@dataclass
class OutputRef:
    path: str  # relative to the stage folder
    rows: int | None  # None for a file or folder that is not a table (results.json, a model folder)
    sha256: str


@dataclass
class Manifest:
    stage: str
    status: str  # running | complete | failed
    fingerprint: str
    config: dict[str, Any]
    config_hash: str
    inputs: list[InputRef] = field(default_factory=list)
    models: list[ModelRef] = field(default_factory=list)
    outputs: dict[str, OutputRef] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    workspace_paths: list[str] = field(default_factory=list)  # JSON pointers of config paths stored relative
    started_at: str = ""
    finished_at: str = ""
    seconds: float = 0.0
    error: str | None = None
    intentkg_version: str = __version__
    python: str = platform.python_version()

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=False, default=str, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Manifest":
        data = dict(data)
        data["inputs"] = [InputRef(**i) for i in data.get("inputs", [])]
        data["models"] = [ModelRef(**m) for m in data.get("models", [])]
        data["outputs"] = {k: OutputRef(**v) for k, v in data.get("outputs", {}).items()}
        return cls(**data)

    def write(self, folder: Path) -> Path:
        """Write atomically: a reader never sees half a manifest."""
        return atomic_file.write_text(folder / MANIFEST_NAME, self.to_json())


def read_manifest(folder: Path) -> Manifest | None:
    path = folder / MANIFEST_NAME
    if not path.exists():
        return None
    try:
        return Manifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:  # hand-edited or truncated: say which file, not a traceback
        raise IntentkgError(f"{path} is not a valid manifest ({exc}); re-run stage {folder.name!r} with --force "
                            f"to write it again") from None
