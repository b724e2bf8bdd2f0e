"""Shared test fixtures. ../shared/data holds small real datasets that CI has and users do not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["skip_policy", "helpers.student_fixtures", "helpers.llama_server"]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("INTENTKG_NO_PROGRESS", "1")
# OpenMP threads (torch's libgomp, llama.cpp's) spin while they wait: with a llama.cpp server, a Ray worker
# or another job on the other core of a 2-core machine, two spinning torch threads ran a SmolLM2 training
# step ~8x slower than one. Passive waiting gives the core back. Set here, before any test module imports
# torch (the runtime reads it once, when it loads); child processes inherit it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data (real ESCI and Instacart samples) is only present in the dev/CI checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def ray_cluster() -> str:
    """One real local Ray cluster (2 CPUs) for the whole session, so its start-up is paid once;
    yields its address (a subprocess driver joins it with ``ray.init(address=...)``)."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local test cluster on 127.0.0.1
    import ray

    context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield context.address_info["gcs_address"]
    ray.shutdown()
