"""The one way intentkg writes a file in place: write a temporary file beside it, then rename it over.

    from intentkg import atomic_file

    atomic_file.write_text(path, text)          # also write_bytes, write_json
    with atomic_file.replacing(path) as tmp:    # for writers that want a path (Parquet, SQLite, np.save)
        pq.write_table(table, tmp)

A reader sees the old file or the new one, never half of one; a crash leaves at most a hidden
``.<name>.<random>.tmp`` beside it. The rename replaces whatever is at ``path`` — a planted symbolic
link is replaced by the new file, never followed to overwrite what it points at. The temporary file
is created exclusively (``O_EXCL``: it cannot be a link someone put there) with the usual umask.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["replacing", "replacing_folder", "write_bytes", "write_json", "write_text"]


def _temporary(path: Path) -> Path:
    """Create (exclusively, never through a link) an empty temporary file beside ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


@contextmanager
def replacing(path: str | Path, fsync: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` in one rename.

    On an exception the temporary file is removed and ``path`` is untouched. ``fsync`` makes the new
    content durable before the rename (for files a power loss must not truncate)."""
    target = Path(path)
    tmp = _temporary(target)
    try:
        yield tmp
        if fsync:
            _fsync(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def replacing_folder(path: str | Path) -> Iterator[Path]:
    """Yield an empty staging folder beside ``path``; on success it replaces ``path`` (a folder).

    A crash leaves at most the hidden ``.<name>.<random>.partial`` folder, never a half-written
    ``path``. Two renames: a reader can find ``path`` missing for an instant, never half of it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{secrets.token_hex(6)}.partial")
    staging.mkdir()
    try:
        yield staging
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.exists():
            old = target.with_name(f".{target.name}.{secrets.token_hex(6)}.old")
            os.replace(target, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_bytes(path: str | Path, data: bytes, fsync: bool = False) -> Path:
    with replacing(path, fsync) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
    return Path(path)


def write_text(path: str | Path, text: str, encoding: str = "utf-8", fsync: bool = False) -> Path:
    return write_bytes(path, text.encode(encoding), fsync)


def write_json(path: str | Path, value: Any, fsync: bool = False, **dumps: Any) -> Path:
    """``json.dumps(value, **dumps)`` written atomically (indent 2, non-ASCII kept, unless told)."""
    dumps.setdefault("indent", 2)
    dumps.setdefault("ensure_ascii", False)
    return write_text(path, json.dumps(value, **dumps), fsync=fsync)
