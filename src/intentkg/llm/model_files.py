"""Model files: a per-user cache folder and sha256 hashes that are computed once per file version.

Hashing a 250 MB GGUF takes about half a second; the hash goes into every request-cache key, so it
is remembered in ``<cache>/file-hashes.json`` keyed by (path, size, mtime) and recomputed only when
the file changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from intentkg import atomic_file
from intentkg.workspace.fingerprint import sha256_file

_lock = threading.Lock()


def cache_dir() -> Path:
    """``$INTENTKG_CACHE_DIR``, else ``$XDG_CACHE_HOME/intentkg``, else ``~/.cache/intentkg``."""
    if os.environ.get("INTENTKG_CACHE_DIR"):
        return Path(os.environ["INTENTKG_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "intentkg"


def _index_path() -> Path:
    return cache_dir() / "file-hashes.json"


def _load() -> dict[str, str]:
    try:
        return json.loads(_index_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save(index: dict[str, str]) -> None:
    path = _index_path()
    try:
        atomic_file.write_json(path, index, indent=0, sort_keys=True)
    except OSError:
        pass  # a read-only cache only costs time


def file_hash(path: str | Path) -> str:
    """sha256 of one file, remembered across runs while the file's size and mtime stay the same."""
    path = Path(path).resolve()
    stat = path.stat()
    tag = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
    with _lock:
        index = _load()
        if tag in index:
            return index[tag]
    digest = sha256_file(path)
    with _lock:
        index = _load()
        index = {k: v for k, v in index.items() if not k.startswith(f"{path}|")}
        index[tag] = digest
        _save(index)
    return digest


def path_hash(path: str | Path, patterns: tuple[str, ...] = ("*",)) -> str:
    """sha256 of a file, or of the names and hashes of a folder's files matching ``patterns``."""
    path = Path(path)
    if path.is_file():
        return file_hash(path)
    digest = hashlib.sha256()
    files = sorted({p for pattern in patterns for p in path.rglob(pattern) if p.is_file()})
    for child in files:
        digest.update(str(child.relative_to(path)).encode())
        digest.update(file_hash(child).encode())
    return digest.hexdigest()
