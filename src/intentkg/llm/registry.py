"""Backends by name. Built-ins are imported lazily; plugins register themselves or ship an entry point.

    from intentkg.llm import registry
    backend = registry.create("llama_cpp", model="gemma3-270m", n_threads=4)

Adding a backend is one file: a class with ``name``, ``preferred_batch_size``, ``info()``,
``generate()`` and ``close()`` (see :mod:`intentkg.llm.protocol`), plus either a call to
:func:`register` or an entry point in the ``intentkg.llm_backends`` group pointing at the class.
"""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import entry_points
from typing import Any, Callable

from intentkg.errors import ConfigError
from intentkg.llm.protocol import Backend

BUILTIN: dict[str, str] = {
    "llama_cpp": "intentkg.llm.llama_cpp:LlamaCppBackend",
    "transformers": "intentkg.llm.transformers_backend:TransformersBackend",
    "openai": "intentkg.llm.openai_compatible:OpenAICompatibleBackend",
    "vllm": "intentkg.llm.vllm_offline:VllmOfflineBackend",
}
ENTRY_POINT_GROUP = "intentkg.llm_backends"
_registered: dict[str, Callable[..., Backend]] = {}


def register(name: str, factory: Callable[..., Backend] | None = None):
    """Register ``factory`` (usually the backend class) under ``name``; usable as a decorator."""
    def add(f: Callable[..., Backend]) -> Callable[..., Backend]:
        _registered[name] = f
        return f
    return add(factory) if factory is not None else add


def available() -> list[str]:
    names = set(BUILTIN) | set(_registered)
    try:
        names |= {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    except Exception:  # a broken plugin must not break the list
        pass
    return sorted(names)


def factory(name: str) -> Callable[..., Backend]:
    if name in _registered:
        return _registered[name]
    target = BUILTIN.get(name)
    if target is None:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name == name:
                return ep.load()
        raise ConfigError(f"unknown LLM backend {name!r}; choose one of {', '.join(available())}")
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


def create(name: str, **options: Any) -> Backend:
    """Build backend ``name`` with keyword ``options``; unknown options name the valid ones."""
    make = factory(name)
    try:
        signature = inspect.signature(make)
    except (TypeError, ValueError):
        signature = None
    if signature is not None and not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        unknown = sorted(set(options) - set(signature.parameters))
        if unknown:
            valid = ", ".join(p for p in signature.parameters if p != "self")
            raise ConfigError(f"backend {name!r} has no option {', '.join(map(repr, unknown))}; valid options: {valid}")
    return make(**options)
