"""Refine configuration: the policy, the reward's weights, the guard and the GRPO trainer settings.

Loaded from YAML (``intentkg refine -w ws --config refine.yaml``); every key is optional::

    model: smollm2-135m-instruct     # the policy: a bundled GGUF alias, a GGUF path, an HF folder or name
    relations: [used_for_function]   # default: the relations the generate stage used
    prompts: behaviors               # or queries: one query-only prompt per search query (on-demand's)
    behaviors: 64                    # held-in behaviours prompted (x relations = training prompts)
    reward:
      weights: {parses: 0.5, rules: 1.0, plausibility: 1.0, typicality: 0.5, judge: 0.0}
      critic: ws/critic             # default: the workspace's trained critic
      judge:                         # used when weights.judge > 0
        backend: {name: llama_cpp, model: gemma3-270m, options: {}}   # the generate stage's backend settings
        max_tokens: 160
    guard:
      heldout_share: 0.25            # behaviours (and their human labels) kept out of the loop
      every: 5                       # evaluate on held-out behaviours every N steps
      patience: 2                    # stop after M evaluations of rising reward and falling agreement
    train: {steps: 40, learning_rate: 5e-5, beta: 0.04, num_generations: 4, max_completion_length: 32}
    lora: {r: 8, alpha: 16, target_modules: [q_proj, v_proj]}
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from intentkg.config_file import load_yaml_model
from intentkg.generate.config import BackendSettings

COMPONENTS = ("parses", "rules", "plausibility", "typicality", "judge")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JudgeSettings(_Strict):
    backend: BackendSettings = Field(default_factory=BackendSettings,
                                     description="the judge's backend, model and options, as `intentkg generate` takes them")
    max_tokens: int = Field(160, ge=16, description="tokens per judge answer")
    max_retries: int = Field(1, ge=0, description="retries of an answer that is not valid JSON for the group")
    temperature: float = Field(0.2, ge=0)


class RewardSettings(_Strict):
    weights: dict[str, float] = Field(
        default_factory=lambda: {"parses": 0.5, "rules": 1.0, "plausibility": 1.0, "typicality": 0.5, "judge": 0.0},
        description=f"component -> weight; components: {', '.join(COMPONENTS)}")
    critic: Path | None = Field(None, description="critic folder (default: the workspace's critic/)")
    judge: JudgeSettings = JudgeSettings()
    max_items: int = Field(3, ge=1, description="list items of one answer that are scored")
    generic_window: int = Field(512, ge=8, description="recent tails the generic-tail check counts over")

    def weight(self, name: str) -> float:
        return float(self.weights.get(name, 0.0))


class GuardSettings(_Strict):
    heldout_share: float = Field(0.25, gt=0, lt=1, description="share of behaviours kept out of training")
    every: int = Field(5, ge=1, description="evaluate every N optimiser steps")
    patience: int = Field(2, ge=1, description="M: consecutive evaluations of rising reward and falling agreement")
    behaviors: int = Field(8, ge=1, description="held-out behaviours generated for at each evaluation")
    tolerance: float = Field(0.0, description="changes at or below this count as flat; negative: every move "
                                              "counts (forces a stop after `patience` evaluations, for tests)")
    enabled: bool = True
    critic_epochs: int = Field(2, ge=1, description="epochs of the held-out critic")


class TrainSettings(_Strict):
    steps: int = Field(40, ge=1)
    learning_rate: float = Field(5e-5, gt=0)
    beta: float = Field(0.04, ge=0, description="KL to the reference model (0 switches it off)")
    num_generations: int = Field(4, ge=2, description="answers per prompt (the GRPO group)")
    prompts_per_step: int = Field(1, ge=1, description="prompts per optimiser step")
    max_completion_length: int = Field(32, ge=4)
    temperature: float = Field(1.0, gt=0)
    seed: int = 0
    threads: int | None = Field(None, ge=1, description="torch threads (default: half the cores)")
    use_vllm: bool | None = Field(None, description="vLLM colocated generation; None: when a GPU is present")


class LoraSettings(_Strict):
    r: int = Field(8, ge=1)
    alpha: int = Field(16, ge=1)
    dropout: float = Field(0.0, ge=0, lt=1)
    target_modules: list[str] = Field(default_factory=lambda: ["q_proj", "v_proj"])


class RefineConfig(_Strict):
    model: str = Field("smollm2-135m-instruct", description="bundled alias, GGUF file, HF folder or name")
    template: str = Field("auto", description="the generate stage's template: auto, qa_chat, qa_fewshot or a path")
    relations: list[str] | None = Field(None, description="None: the relations the generate stage used")
    prompts: Literal["behaviors", "queries"] = Field(
        "behaviors", description="behaviors: the generate stage's behaviour prompts; queries: one query-only prompt "
                                 "per distinct search query, as on-demand knowledge asks it (`eval esci --on-demand`, "
                                 "serving's second tier)")
    behaviors: int = Field(64, ge=1, description="held-in behaviours prompted")
    seed: int = 0
    reward: RewardSettings = RewardSettings()
    guard: GuardSettings = GuardSettings()
    train: TrainSettings = TrainSettings()
    lora: LoraSettings = LoraSettings()
    export_gguf: bool = Field(True, description="write refine/policy.gguf with llama.cpp's converter")


def load_config(path: str | Path | None) -> RefineConfig:
    if path is None:
        return RefineConfig()
    return load_yaml_model(path, RefineConfig, "docs/refine.md")
