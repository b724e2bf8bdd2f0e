from __future__ import annotations

import pytest
from helpers.filter_workspace import filtered_workspace


@pytest.fixture(scope="session")
def filtered_ws(tmp_path_factory):
    """A small synthetic workspace after `run_filter` (real MiniLM, Gemma scorer, critic trained by train-critic); built once."""
    return filtered_workspace(str(tmp_path_factory.getbasetemp() / "filtered"))
