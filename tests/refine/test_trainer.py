"""The GRPO arguments refine trains with: CPU by default, the KL term on, vLLM colocated when asked or on a GPU."""

from __future__ import annotations

import importlib.util

import pytest

from intentkg.refine.config import RefineConfig
from intentkg.refine.trainer import grpo_args, use_vllm

GPU = importlib.util.find_spec("torch") is not None and __import__("torch").cuda.is_available()


def test_cpu_defaults(tmp_path):
    config = RefineConfig.model_validate({"train": {"num_generations": 4, "prompts_per_step": 2, "beta": 0.1,
                                                    "max_completion_length": 32, "steps": 7}})
    args = grpo_args(config, tmp_path)
    assert args.beta == 0.1 and args.num_generations == 4 and args.max_completion_length == 32
    assert args.per_device_train_batch_size == 8 and args.max_steps == 7
    if not GPU:
        assert use_vllm(config) is False and args.use_vllm is False and args.use_cpu is True


def test_vllm_is_asked_for_colocated(tmp_path):
    config = RefineConfig.model_validate({"train": {"use_vllm": True}})
    args = grpo_args(config, tmp_path)
    assert args.use_vllm is True and args.vllm_mode == "colocate"
    assert use_vllm(RefineConfig.model_validate({"train": {"use_vllm": False}})) is False


@pytest.mark.skipif(not GPU or importlib.util.find_spec("vllm") is None, reason="no GPU / vLLM not importable")
def test_a_gpu_with_vllm_generates_colocated_by_default(tmp_path):
    config = RefineConfig()
    assert use_vllm(config) is True
    assert grpo_args(config, tmp_path).vllm_mode == "colocate"
