"""Where llama.cpp's ``convert_hf_to_gguf.py`` comes from: it ships inside llama-cpp-python's source
distribution (``vendor/llama.cpp/``, with its ``conversion/`` package and ``gguf-py`` beside it), so
no model and no git checkout is downloaded.

In order:

1. a path the user gives (``--convert-script`` or ``$INTENTKG_CONVERT_SCRIPT``): a
   ``convert_hf_to_gguf.py`` inside a llama.cpp checkout;
2. a copy extracted earlier into ``<cache>/llama.cpp-convert/<version>/`` (``<cache>`` as in
   :func:`intentkg.llm.model_files.cache_dir`);
3. the sdist fetched from PyPI with pip (``pip download llama-cpp-python==<version> --no-binary :all:
   --no-deps``; ~77 MB, from pip's cache when it has it), then only the converter's files are
   extracted into that cache folder.

``<version>`` is the installed llama-cpp-python's, so the converter writes what the installed
llama.cpp reads. When none of these works, the error says how to get the script by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path

from intentkg import atomic_file
from intentkg.errors import ConfigError
from intentkg.llm.model_files import cache_dir

ENV = "INTENTKG_CONVERT_SCRIPT"
SCRIPT = "convert_hf_to_gguf.py"
DEFAULT_VERSION = "0.3.36"  # the version constraints.txt pins; used when llama-cpp-python is not installed
_MEMBERS = (SCRIPT, "conversion/", "gguf-py/gguf/", "LICENSE")
PIP_TIMEOUT_S = 900


def llama_cpp_version() -> str:
    try:
        return metadata.version("llama-cpp-python")
    except metadata.PackageNotFoundError:
        return DEFAULT_VERSION


def _how_to(version: str) -> str:
    return (f"get it with: pip download llama-cpp-python=={version} --no-binary :all: --no-deps -d DIR, unpack "
            f"DIR/llama_cpp_python-{version}.tar.gz and pass --convert-script "
            f"<unpacked>/vendor/llama.cpp/{SCRIPT} (or set ${ENV})")


def _checked(path: Path, what: str) -> Path:
    path = path.expanduser()
    if path.is_dir():
        path = path / SCRIPT
    if not path.is_file():
        raise ConfigError(f"{what} {path}: no such file; give the path of {SCRIPT} inside a llama.cpp checkout")
    return path.resolve()


def cached_script(version: str | None = None) -> Path:
    return cache_dir() / "llama.cpp-convert" / (version or llama_cpp_version()) / SCRIPT


def find_convert_script(given: str | Path | None = None, fetch: bool = True) -> Path:
    """The converter to run: ``given``, else ``$INTENTKG_CONVERT_SCRIPT``, else the cache, else PyPI."""
    if given:
        return _checked(Path(given), "--convert-script")
    if os.environ.get(ENV):
        return _checked(Path(os.environ[ENV]), f"${ENV}")
    version = llama_cpp_version()
    script = cached_script(version)
    if script.is_file():
        return script
    if not fetch:
        raise ConfigError(f"llama.cpp's {SCRIPT} is not in {script.parent}; {_how_to(version)}")
    with tempfile.TemporaryDirectory(prefix="intentkg-sdist-") as tmp:
        return extract_from_sdist(fetch_sdist(version, Path(tmp)), script.parent)


def fetch_sdist(version: str, folder: Path) -> Path:
    """llama-cpp-python's source distribution, downloaded with pip into ``folder``."""
    command = [sys.executable, "-m", "pip", "download", f"llama-cpp-python=={version}", "--no-binary", ":all:",
               "--no-deps", "--disable-pip-version-check", "-q", "-d", str(folder)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"could not fetch llama.cpp's {SCRIPT} from PyPI ({exc}); {_how_to(version)}") from exc
    found = sorted(folder.glob("llama_cpp_python-*.tar.gz"))
    if done.returncode != 0 or not found:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ConfigError(f"could not fetch llama.cpp's {SCRIPT} from PyPI (pip said: {' | '.join(tail)}); "
                          f"{_how_to(version)}")
    return found[0]


def extract_from_sdist(sdist: Path, target: Path) -> Path:
    """Extract the converter's files from ``sdist`` into ``target`` (atomically); the script's path."""
    with tarfile.open(sdist) as archive:
        chosen = []
        for member in archive.getmembers():
            parts = member.name.split("/", 3)  # llama_cpp_python-X/vendor/llama.cpp/<rest>
            if len(parts) == 4 and parts[1:3] == ["vendor", "llama.cpp"] and parts[3].startswith(_MEMBERS):
                if member.isfile():
                    member.name = parts[3]
                    chosen.append(member)
        if not any(m.name == SCRIPT for m in chosen):
            raise ConfigError(f"{sdist} holds no vendor/llama.cpp/{SCRIPT}; {_how_to(llama_cpp_version())}")
        with atomic_file.replacing_folder(target) as staging:
            archive.extractall(staging, members=chosen, filter="data")  # "data": no links, no paths outside
    return target / SCRIPT
