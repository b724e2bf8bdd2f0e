"""The held-out critic: a second critic, fitted on human labels no other part of refine has seen.

It is trained with the critic package's own trainer (:func:`intentkg.critic.train.fit`, the
bundled MiniLM by default) on the ``guard_critic`` labels of :mod:`intentkg.refine.split`, which
share no candidate with the reward critic's training data or with the held-out set. It never
gives reward; the guard uses it to score the policy's held-out answers, a check the policy cannot
have learnt to please. Saved as safetensors in the refine stage's outputs (``heldout_critic/``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from intentkg.critic.template import DEFAULT_TEMPLATE, critic_input
from intentkg.critic.train import TrainConfig, fit, load, margins, save
from intentkg.workspace.fingerprint import hash_json, sha256_path


class HeldoutCritic:
    def __init__(self, model, tokenizer, max_length: int):
        self.model, self.tokenizer, self.max_length = model, tokenizer, max_length

    @classmethod
    def train(cls, labels: list[dict], config: TrainConfig) -> "HeldoutCritic":
        texts = [critic_input(r["head"], r["relation"], r["tail"], DEFAULT_TEMPLATE) for r in labels]
        answers = [int(bool(r["plausibility"])) for r in labels]
        model, tokenizer = load(config.model, config.seed)
        fit(model, tokenizer, texts, answers, config)
        return cls(model, tokenizer, config.max_length)

    def score(self, heads: list[str], relations: list[str], tails: list[str]) -> np.ndarray:
        """P(plausible) per candidate."""
        if not tails:
            return np.zeros(0)
        texts = [critic_input(h, r, t, DEFAULT_TEMPLATE) for h, r, t in zip(heads, relations, tails)]
        return 1.0 / (1.0 + np.exp(-margins(self.model, self.tokenizer, texts, self.max_length)))

    def save(self, folder: Path) -> str:
        """Write the model; returns the hash of its weights (for the manifest's lineage)."""
        save(self.model, self.tokenizer, folder)
        return hash_json([sha256_path(p) for p in sorted(Path(folder).rglob("*.safetensors"))])
