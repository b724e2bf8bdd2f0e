"""Which ``pip install 'intentkg[...]'`` extra brings a module a command could not import.

A core install (``pip install intentkg``) starts the CLI; a command that needs an optional
dependency imports it when it runs, and :func:`missing_extra` turns the ``ModuleNotFoundError``
into one line naming the extra, read from intentkg's own package metadata (pyproject.toml).
"""

from __future__ import annotations

import re
from importlib import metadata

# import names whose distribution is spelled differently
DISTRIBUTIONS = {"sklearn": "scikit-learn", "llama_cpp": "llama-cpp-python", "multipart": "python-multipart",
                 "yaml": "pyyaml", "sse_starlette": "sse-starlette", "starlette_context": "starlette-context",
                 "pydantic_settings": "pydantic-settings"}
# what the extras give each command, for a module no extra names directly (a dependency's dependency)
COMMAND_EXTRAS = {"filter": "filter", "view": "filter", "report": "filter", "train-critic": "train", "eval": "train",
                  "serve": "serve", "annotate": "serve", "generate": "llm", "judge": "llm", "build": "kg", "kg": "kg",
                  "distill": "distill", "refine": "distill"}
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)[^;]*;\s*extra\s*==\s*['\"]([^'\"]+)['\"]")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def extras_by_distribution() -> dict[str, list[str]]:
    """{distribution: [extras that install it]} from intentkg's metadata ({} when not installed)."""
    try:
        requires = metadata.requires("intentkg") or []
    except metadata.PackageNotFoundError:
        return {}
    out: dict[str, list[str]] = {}
    for line in requires:
        m = _REQUIREMENT.match(line)
        if m and m.group(2) not in ("all", "dev"):
            out.setdefault(_normal(m.group(1)), []).append(m.group(2))
    return out


def missing_extra(exc: ImportError, command: str | None) -> str | None:
    """The one-line message for a module a command could not import, or None if it is not ours to explain."""
    name = (getattr(exc, "name", None) or "").split(".")[0]
    if not name or name == "intentkg":
        return None
    extras = extras_by_distribution().get(_normal(DISTRIBUTIONS.get(name, name)), [])
    wanted = COMMAND_EXTRAS.get(command or "")
    if wanted in extras or (not extras and wanted):
        extras = [wanted]
    if not extras:
        return None
    which = " or ".join(f"pip install 'intentkg[{e}]'" for e in sorted(set(extras)))
    what = f"`intentkg {command}`" if command else "this command"
    return f"{what} needs the module {name!r}, which a core install lacks: {which}"
