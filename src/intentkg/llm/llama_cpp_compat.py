"""Work around CPUs that advertise Intel AMX but fault on it (common in VMs).

llama.cpp builds compiled for the build machine put weights in "extra" CPU buffers (AMX tiles,
repacked layouts). On a virtual machine whose CPU reports ``amx_tile`` but does not enable it, the
first matrix multiply dies with SIGSEGV. :func:`extra_buffers_ok` finds out once per machine, in a
child process, whether extra buffers are safe; :func:`model_params_patch` loads a model without
them when they are not. ``INTENTKG_LLAMA_EXTRA_BUFFERS=0|1`` overrides the probe.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import threading
from pathlib import Path

from intentkg import atomic_file
from intentkg.llm.model_files import cache_dir

_patch_lock = threading.Lock()
PROBE_TIMEOUT_S = 120


def _cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def extra_buffers_ok(model_path: str | Path) -> bool:
    """Whether llama.cpp's extra CPU buffer types can be used here (probed once, then remembered)."""
    forced = os.environ.get("INTENTKG_LLAMA_EXTRA_BUFFERS")
    if forced in ("0", "1"):
        return forced == "1"
    if "amx_tile" not in _cpu_flags():
        return True
    import llama_cpp

    record = cache_dir() / "llama-cpp-probe.json"
    tag = f"{llama_cpp.__version__}|{_cpu_model()}|{platform.release()}"
    try:
        known = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if tag in known:
        return bool(known[tag])
    code = ("import sys; from intentkg.llm.llama_cpp_compat import _probe_child; _probe_child(sys.argv[1])")
    try:
        proc = subprocess.run([sys.executable, "-c", code, str(model_path)], capture_output=True,
                              timeout=PROBE_TIMEOUT_S)
        ok = proc.returncode == 0
    except subprocess.TimeoutExpired:
        ok = False
    known[tag] = ok
    try:
        atomic_file.write_json(record, known, indent=1)
    except OSError:
        pass
    return ok


def _probe_child(model_path: str) -> None:  # runs in the child process
    from llama_cpp import Llama

    llm = Llama(model_path=model_path, n_ctx=64, n_threads=1, verbose=False)
    llm.create_completion("Hello", max_tokens=2, temperature=0.0)


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
