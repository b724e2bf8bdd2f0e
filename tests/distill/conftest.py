"""Shared by the distil tests: llama.cpp's converter, found (or fetched from PyPI once) per session."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def convert_script() -> Path:
    """convert_hf_to_gguf.py: the user cache's copy, else extracted from llama-cpp-python's sdist
    (pip download; about 30 s to a few minutes once per machine, then cached)."""
    from intentkg.distill.convert_script import find_convert_script

    return find_convert_script()
