from __future__ import annotations

import os

import pytest
from helpers.filter_workspace import filtered_workspace

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # llama.cpp threads must not spin on a shared CPU


@pytest.fixture(scope="session")
def filtered_ws(tmp_path_factory):
    """A small synthetic workspace after `run_filter` (real MiniLM, Gemma scorer, critic trained by train-critic); built once."""
    return filtered_workspace(str(tmp_path_factory.getbasetemp() / "filtered"))
