"""Work around CPUs that advertise Intel AMX but fault on it (common in VMs).

llama.cpp builds compiled for the build machine put weights in "extra" CPU buffers (AMX tiles,
repacked layouts). On a virtual machine whose CPU reports ``amx_tile`` but does not enable it, a
matrix multiply dies with SIGSEGV. Where the CPU reports AMX, :func:`extra_buffers_ok` says no and
:func:`model_params_patch` loads models without those buffers; ``INTENTKG_LLAMA_EXTRA_BUFFERS=1``
turns them on where you know they work (``=0`` turns them off anywhere).

Why no probe: an earlier version tried a 2-token completion in a child process once per machine and
remembered the answer. On one VM that probe passed once and every later decode of both bundled models
crashed (even the probe itself, re-run): a passing probe is no proof, and a crash in a long run costs
far more than the repacked layouts save.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

_patch_lock = threading.Lock()


def _cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def extra_buffers_ok(model_path: str | Path | None = None) -> bool:
    """Whether llama.cpp's extra CPU buffer types may be used here: not on a CPU that reports AMX,
    unless ``INTENTKG_LLAMA_EXTRA_BUFFERS`` says otherwise. (``model_path`` is accepted for callers
    that name the model; the answer does not depend on it.)"""
    forced = os.environ.get("INTENTKG_LLAMA_EXTRA_BUFFERS")
    if forced in ("0", "1"):
        return forced == "1"
    return "amx_tile" not in _cpu_flags()


@contextlib.contextmanager
def model_params_patch(use_extra_buffers: bool):
    """While active, models load with ``use_extra_bufts`` set as given (llama-cpp-python has no argument)."""
    import llama_cpp.llama as llama_module

    if use_extra_buffers:
        yield
        return
    with _patch_lock:
        low = llama_module.llama_cpp
        original = low.llama_model_default_params

        def defaults():
            params = original()
            if hasattr(params, "use_extra_bufts"):
                params.use_extra_bufts = False
            return params

        low.llama_model_default_params = defaults
        try:
            yield
        finally:
            low.llama_model_default_params = original
