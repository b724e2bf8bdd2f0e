"""Content fingerprints: files, folders and configs hash to short stable hex strings."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_path(path: str | Path) -> str:
    """Hash a file, or every file under a folder (names and contents, in sorted order).

    Links inside a folder count by where they point (their text), never by what they point at, so
    hashing a folder never reads outside it."""
    path = Path(path)
    if path.is_file():
        return sha256_file(path)
    digest = hashlib.sha256()
    entries = []
    for folder, dirs, files in os.walk(path, followlinks=False):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            entries.append(Path(folder) / name)
    for child in sorted(entries):
        digest.update(str(child.relative_to(path)).encode())
        digest.update(("link:" + os.readlink(child)).encode() if child.is_symlink() else sha256_file(child).encode())
    return digest.hexdigest()


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def hash_json(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def short_id(*parts: Any, length: int = 16) -> str:
    """A stable id from any JSON-able parts, e.g. short_id('co_buy', 'A', 'B')."""
    return hash_json(list(parts))[:length]
