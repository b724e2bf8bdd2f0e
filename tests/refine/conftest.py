from __future__ import annotations

import pytest
from helpers.filter_workspace import trained_critic_base, trained_critic_workspace


@pytest.fixture(scope="session")
def reward_critic(tmp_path_factory):
    """The critic `intentkg train-critic` trained on demo annotations (shared with tests/critic and tests/filter)."""
    from intentkg.filter.critic import Critic

    return Critic(trained_critic_workspace(trained_critic_base(tmp_path_factory)) / "critic")


@pytest.fixture(scope="session")
def minilm():
    from intentkg.embed import load_embedder

    return load_embedder("all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def refined_ws(tmp_path_factory):
    """A workspace after a smoke-sized `run_refine` on the bundled SmolLM2: 2 steps asked for, the guard
    forced to stop (any move counts) after its patience of 1 evaluation, so one GRPO step is trained."""
    from helpers.refine_workspace import refine_workspace, tiny_config

    from intentkg.refine.stage import run_refine

    root = refine_workspace(str(tmp_path_factory.getbasetemp() / "refine"), trained_critic_base(tmp_path_factory))
    run_refine(root, tiny_config(guard={"tolerance": -10.0, "patience": 1}, train={"steps": 2}), quiet=True)
    return root
