"""Fixtures for generate tests: the fake backend and a demo workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.fake_llm import FakeBackend
from intentkg.ingest import run_ingest
from intentkg.ingest.demo import demo_config



@pytest.fixture(autouse=True)
def _reset_fakes():
    FakeBackend.instances.clear()
    yield


@pytest.fixture
def demo_ws(tmp_path) -> Path:
    ws = tmp_path / "ws"
    run_ingest(demo_config(), ws)
    return ws
