"""Library code leaves process-wide settings as it found them (issue 11, item 10): torch's thread count,
OMP_WAIT_POLICY and HF_HUB_OFFLINE. Each test failed on the old code, which set them for good."""

import os
import subprocess
import sys

import pytest

from intentkg.threads import torch_threads

torch = pytest.importorskip("torch", reason="torch comes with the filter/train extras")


def test_torch_threads_sets_then_restores():
    before = torch.get_num_threads()
    target = 1 if before != 1 else 2
    with torch_threads(target) as used:
        assert used == torch.get_num_threads() == target
    assert torch.get_num_threads() == before


def test_the_critic_trainer_restores_the_thread_count(tmp_path):
    from helpers.filter_workspace import make_tiny_critic
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from intentkg.critic.train import TrainConfig, fit, margins

    folder = make_tiny_critic(tmp_path / "critic", "single")
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=2, ignore_mismatched_sizes=True)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    before = torch.get_num_threads()
    torch.set_num_threads(before + 1)  # more than the trainer's default: it must not keep its own
    try:
        fit(model, tokenizer, ["a tent", "a stove"], [1, 0], TrainConfig(epochs=1, batch_size=2, threads=1))
        assert torch.get_num_threads() == before + 1
        margins(model, tokenizer, ["a tent"], max_length=16)
        assert torch.get_num_threads() == before + 1
    finally:
        torch.set_num_threads(before)


def test_importing_the_completeness_scorer_leaves_omp_wait_policy_unset():
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    code = "import os, intentkg.filter.completeness; print(os.environ.get('OMP_WAIT_POLICY'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.strip() == "None", out.stderr


def test_loading_an_embedder_leaves_hf_hub_offline_as_it_was(monkeypatch):
    from intentkg.embed.base import load_embedder

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    embedder = load_embedder("all-MiniLM-L6-v2", batch_size=8)  # a local folder: no hub is asked
    assert embedder.encode(["winter tent"]).shape[0] == 1
    assert "HF_HUB_OFFLINE" not in os.environ
