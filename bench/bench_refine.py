"""Benchmark: GRPO steps/s of `intentkg refine`'s code path against TRL's plain GRPOTrainer.

    .venv/bin/python bench/bench_refine.py [--steps 3] [--rounds 2] [--generations 4] [--tokens 32]
                                           [--threads N] [--guard-every 0]

Both sides train the bundled SmolLM2-135M-Instruct (loaded through :mod:`intentkg.llm.trainable`)
with the same LoRA, the same GRPOConfig (:func:`intentkg.refine.trainer.grpo_args`: 4 generations x
32 tokens, beta 0.04, CPU), the same prompts (:func:`intentkg.refine.prompts.build_prompts` on a
synthetic workspace) and the same reward (the refine reward's rule components, no critic, so no
trained critic is needed):

- plain: ``trl.GRPOTrainer`` built by hand with those arguments and the reward functions;
- refine: :func:`intentkg.refine.trainer.build_trainer` (what ``intentkg refine`` runs), plus, with
  ``--guard-every N``, the guard's evaluation every N steps (generation on held-out prompts; off
  by default, since its cost is a choice of N, not overhead).

Rounds alternate plain, refine, refine, plain (ABBA) so background load hits both alike; each
round builds a fresh model and trainer and times ``train()`` for ``--steps`` steps after one
untimed warm-up step. Prints, per round, steps per wall-clock second and per CPU second of this
process (``time.process_time``: all its threads; on a machine shared with other jobs the wall
clock mostly measures the others, the CPU time what the step itself costs) and the load average;
then medians (min-max) and both overhead ratios refine / plain against the goal >= 0.9. Not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from transformers import TrainerCallback

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads must not spin into the CPU time

GOAL = 0.9


def parts(root: Path, generations: int, tokens: int, steps: int):
    from intentkg.filter.config import FilterConfig
    from intentkg.filter.synthetic import write_synthetic_workspace
    from intentkg.llm.protocol import ModelInfo
    from intentkg.llm.trainable import load_trainable
    from intentkg.operating_point import OperatingPoint
    from intentkg.refine.config import RefineConfig
    from intentkg.refine.prompts import build_prompts
    from intentkg.refine.reward import Reward

    ws = write_synthetic_workspace(root / "ws", 200, seed=5)
    config = RefineConfig.model_validate({"behaviors": 16, "export_gguf": False,
                                          "reward": {"weights": {"parses": 0.5, "rules": 1.0}},
                                          "train": {"steps": steps + 1, "num_generations": generations,
                                                    "max_completion_length": tokens}})
    base = load_trainable(config.model)
    info = ModelInfo("transformers", base.model_id, base.model_hash, True, str(base.folder))
    train = build_prompts(ws, info, "auto", None, 16, 0.25, heldout=False)
    heldout = build_prompts(ws, info, "auto", None, 2, 0.25, heldout=True)
    filter_config = FilterConfig.model_validate({"similarity": {"enabled": False}})
    reward = Reward(config.reward, filter_config, OperatingPoint(), None, None, None, max_tokens=tokens)
    return config, train, heldout, reward


def one_round(side: str, config, train, heldout, reward, steps: int, guard_every: int,
              out: Path) -> tuple[float, float]:
    from trl import GRPOTrainer

    from intentkg.llm.trainable import load_trainable
    from intentkg.refine.reward import trl_reward_funcs
    from intentkg.refine.trainer import build_trainer, grpo_args, lora_config

    base = load_trainable(config.model)
    funcs, weights = trl_reward_funcs(reward, train.behaviours.__getitem__)
    callbacks = [_Timer(warmup=1)]
    if side == "refine":
        if guard_every:
            callbacks.append(_guard(config, base, reward, heldout, guard_every))
        trainer = build_trainer(config, base.model, base.tokenizer, train.rows, funcs, weights, callbacks, out)
    else:
        from datasets import Dataset

        args = grpo_args(config, out)
        args.reward_weights = weights
        trainer = GRPOTrainer(model=base.model, reward_funcs=funcs, args=args,
                              train_dataset=Dataset.from_list(train.rows), processing_class=base.tokenizer,
                              peft_config=lora_config(config), callbacks=callbacks)
    trainer.train()
    return callbacks[0].rates()


def _guard(config, base, reward, heldout, every: int):
    import numpy as np

    from intentkg.refine.guard import Generator, Guard

    class LengthCritic:  # the bench measures the guard's generation cost, not a second critic
        def score(self, heads, relations, tails):
            return np.array([min(1.0, len(t) / 40) for t in tails])

    generator = Generator(base.tokenizer, config.train.max_completion_length, 2, 1.0, 0)
    return Guard(reward, [r["prompt"] for r in heldout.rows], [heldout.behaviours[r["prompt_id"]] for r in heldout.rows],
                 LengthCritic(), [], generator, every, patience=10 ** 6)


class _Timer(TrainerCallback):
    """Times the steps after the warm-up ones: wall clock and this process's CPU time."""

    def __init__(self, warmup: int):
        self.warmup, self.marks = warmup, []

    def on_step_end(self, args, state, control, **kwargs):
        self.marks.append((state.global_step, time.perf_counter(), time.process_time()))

    def rates(self) -> tuple[float, float]:
        """(steps per wall second, steps per CPU second)."""
        (s0, w0, c0), (s1, w1, c1) = self.marks[self.warmup - 1], self.marks[-1]
        return (s1 - s0) / (w1 - w0), (s1 - s0) / (c1 - c0)


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values):.4f} ({min(values):.4f}-{max(values):.4f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2, help="ABBA pairs")
    parser.add_argument("--generations", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--guard-every", type=int, default=0)
    a = parser.parse_args()
    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    wall: dict[str, list[float]] = {"plain": [], "refine": []}
    cpu: dict[str, list[float]] = {"plain": [], "refine": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config, train, heldout, reward = parts(root, a.generations, a.tokens, a.steps)
        order = [s for _ in range(a.rounds) for s in ("plain", "refine", "refine", "plain")]
        for i, side in enumerate(order):
            rate, cpu_rate = one_round(side, config, train, heldout, reward, a.steps, a.guard_every,
                                       root / f"out{i}")
            wall[side].append(rate)
            cpu[side].append(cpu_rate)
            print(f"round {i + 1} {side:6s} {rate:.4f} steps/s wall, {cpu_rate:.4f} steps/CPU-s, "
                  f"load average {os.getloadavg()[0]:.1f}", flush=True)
    print(f"{a.generations} generations x {a.tokens} tokens, guard every {a.guard_every or 'never'}; "
          f"median (min-max) over {a.rounds * 2} rounds a side")
    for name, rates in (("wall", wall), ("CPU", cpu)):
        ratio = statistics.median(rates["refine"]) / statistics.median(rates["plain"])
        print(f"steps per {name} second: plain TRL {_summary(rates['plain'])}, intentkg refine "
              f"{_summary(rates['refine'])}; overhead ratio refine / plain = {ratio:.3f} (goal >= {GOAL}): "
              f"{'met' if ratio >= GOAL else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
