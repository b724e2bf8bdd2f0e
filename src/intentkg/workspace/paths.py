"""Paths a workspace records and reads back.

Inside a workspace every recorded path is relative to its root (``critic``, not
``demo-workspace/critic`` or ``/home/me/demo-workspace/critic``), so a moved or copied workspace
still works; and every path read back from a manifest must resolve inside the root, so a manifest
that says ``../../outside/secret.parquet`` or a planted link to elsewhere is refused, not read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from intentkg.errors import IntentkgError


def _real(path: str | Path) -> Path:
    return Path(os.path.realpath(path))


def is_inside(root: Path, path: str | Path) -> bool:
    """Whether ``path`` (links followed) lies inside ``root`` (links followed)."""
    real_root, real = _real(root), _real(path)
    return real == real_root or real_root in real.parents


def confined(root: Path, folder: Path, recorded: str, what: str) -> Path:
    """``folder / recorded`` when it stays inside ``root``; an error naming ``what`` otherwise."""
    candidate = folder / recorded
    if Path(recorded).is_absolute() or not is_inside(root, candidate):
        raise IntentkgError(
            f"{what}: the recorded path {recorded!r} resolves to {_real(candidate)}, outside the workspace "
            f"{_real(root)}; it is not read. Re-run the stage that wrote it (with --force) to write it again"
        )
    return candidate


def to_stored(root: Path, path: str | Path) -> str:
    """How a path is recorded: relative to the workspace root when it is inside, else as given."""
    path = Path(path).expanduser()
    if not path.exists() or not is_inside(root, path):
        return str(path)
    relative = _real(path).relative_to(_real(root))
    return relative.as_posix() or "."


def from_stored(root: Path, recorded: str) -> Path:
    """A recorded path as a path to open now (workspace-relative ones anchored at the current root)."""
    path = Path(recorded)
    return path if path.is_absolute() else root / path


def _looks_like_path(value: str) -> bool:
    return ("/" in value or os.sep in value) and "\n" not in value and len(value) < 4096


def portable_config(root: Path, config: Any, pointer: str = "") -> tuple[Any, list[str]]:
    """``config`` with every string that names an existing path inside the workspace made relative to
    its root, and the JSON pointers (``/critic/path``) of those strings, so they can be anchored again
    (:func:`anchored_config`) wherever the workspace is now."""
    if isinstance(config, dict):
        out, pointers = {}, []
        for key, value in config.items():
            out[key], found = portable_config(root, value, f"{pointer}/{key}")
            pointers += found
        return out, pointers
    if isinstance(config, (list, tuple)):
        items, pointers = [], []
        for i, value in enumerate(config):
            item, found = portable_config(root, value, f"{pointer}/{i}")
            items.append(item)
            pointers += found
        return (items if isinstance(config, list) else tuple(items)), pointers
    if isinstance(config, str) and _looks_like_path(config):
        path = Path(config).expanduser()
        if path.exists() and is_inside(root, path):
            return to_stored(root, path), [pointer]
    return config, []


def anchored_config(root: Path, config: dict[str, Any], pointers: list[str]) -> dict[str, Any]:
    """The inverse of :func:`portable_config`: workspace-relative paths made paths under ``root``."""
    import copy

    config = copy.deepcopy(config)
    for pointer in pointers:
        parts = pointer.strip("/").split("/")
        node: Any = config
        try:
            for part in parts[:-1]:
                node = node[int(part)] if isinstance(node, list) else node[part]
            last = int(parts[-1]) if isinstance(node, list) else parts[-1]
            node[last] = str(from_stored(root, node[last]))
        except (KeyError, IndexError, ValueError, TypeError):
            continue  # the config no longer has that key: nothing to anchor
    return config


def remove(path: Path) -> None:
    """Remove a file, a link (never what it points at) or a folder."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        import shutil

        shutil.rmtree(path)
