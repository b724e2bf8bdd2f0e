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


@pytest.fixture(scope="session")
def teacher_ws(tmp_path_factory):
    """ingest demo + generate with the bundled SmolLM2 (3 behaviours), built once."""
    from helpers.student import teacher_workspace

    return teacher_workspace(str(tmp_path_factory.getbasetemp() / "student"))


@pytest.fixture(scope="session")
def student_ws(tmp_path_factory):
    """The teacher workspace with a distill stage holding a student GGUF and its lineage record."""
    from helpers.student import stand_in_student

    return stand_in_student(str(tmp_path_factory.getbasetemp() / "student"))
