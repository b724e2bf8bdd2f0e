"""The reward-hacking guard: a TrainerCallback that measures the policy on what training never sees.

Every ``every`` optimiser steps (and once before the first), the policy answers the held-out
behaviours' prompts (same sampling seed each time, so evaluations differ by the policy only) and
the guard records one point of the curve:

- ``reward``: the mean reward of those answers (the reward the trainer maximises);
- ``heldout_critic``: the held-out critic's mean plausibility of their items (0 for an answer with
  no item): the held-out measure the best checkpoint is chosen by;
- ``agreement``: Kendall's tau between the reward and the held-out critic over those answers,
  the stop rule's agreement: it falls when the policy finds answers the reward likes and the
  held-out critic does not;
- ``human_tau``, ``human_auc``: Kendall's tau (scipy) and ROC-AUC (sklearn) of the reward against
  the held-out human plausibility labels, the labelled candidates scored as one-item answers
  (the reward's generic-tail window moves with the policy, so these can move too).

When :func:`~intentkg.refine.stop_rule.hacking_at` fires, training stops. The adapter weights of
the best point by ``heldout_critic`` are kept and restored at the end. With ``checkpoints`` (a folder),
every evaluated point's adapter is also saved there as ``step-<N>/`` (peft, safetensors, ~1 MB for
the default LoRA), so a checkpoint the guard did not keep (the last one, say) can still be merged
and exported (``intentkg distill export --adapter``) and evaluated.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from transformers import TrainerCallback

from intentkg.refine.measure import filter_measures
from intentkg.refine.reward import Behaviour, Reward
from intentkg.refine.stop_rule import best_point, hacking_at


def kendall_tau(x, y) -> float | None:
    from scipy.stats import kendalltau

    if len(x) < 2 or len(set(np.round(x, 6))) < 2 or len(set(np.round(y, 6))) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = kendalltau(x, y).statistic
    return None if value is None or np.isnan(value) else round(float(value), 4)


def roc_auc(labels, scores) -> float | None:
    from sklearn.metrics import roc_auc_score

    labels = [int(v) for v in labels]
    if not 0 < sum(labels) < len(labels):
        return None
    return round(float(roc_auc_score(labels, scores)), 4)


def label_behaviour(row: dict) -> Behaviour:
    """A labelled candidate as the context of a one-item answer (its head split back into its texts)."""
    head, kind = row["head"], row["kind"]
    sep = " -> " if kind == "search_buy" else " + "
    left, _, right = head.partition(sep)
    return Behaviour(f"label:{row['candidate_id']}", row["candidate_id"], kind, head, row["relation"],
                     left, right or left)


def lora_state(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items() if "lora_" in k}


class Generator:
    """Sampled answers of the current policy for a fixed list of prompts (the chat template when chat)."""

    def __init__(self, tokenizer, max_new_tokens: int, samples: int, temperature: float, seed: int):
        self.tokenizer, self.max_new_tokens = tokenizer, max_new_tokens
        self.samples, self.temperature, self.seed = samples, temperature, seed

    def __call__(self, model, prompts: list) -> tuple[list[str], list[bool]]:
        import torch

        tok = self.tokenizer
        texts = [tok.apply_chat_template(p, tokenize=False, add_generation_prompt=True) if isinstance(p, list)
                 else p for p in prompts]
        side, tok.padding_side = tok.padding_side, "left"
        try:
            encoded = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        finally:
            tok.padding_side = side
        was_training = model.training
        model.eval()
        with torch.random.fork_rng(devices=[]), torch.inference_mode():
            torch.manual_seed(self.seed)
            out = model.generate(**encoded, do_sample=True, temperature=self.temperature, top_p=1.0,
                                 max_new_tokens=self.max_new_tokens, num_return_sequences=self.samples,
                                 pad_token_id=tok.pad_token_id)
        if was_training:
            model.train()
        new = out[:, encoded["input_ids"].shape[1]:]
        answers = tok.batch_decode(new, skip_special_tokens=True)
        lengths = (new != tok.pad_token_id).sum(dim=1).tolist()
        return answers, [n >= self.max_new_tokens for n in lengths]


class Guard(TrainerCallback):
    def __init__(self, reward: Reward, heldout_prompts: list, heldout_behaviours: list[Behaviour],
                 heldout_critic, heldout_labels: list[dict], generator: Generator, every: int, patience: int,
                 tolerance: float = 0.0, say=None, checkpoints=None):
        self.checkpoints = checkpoints  # a folder: each evaluated point's adapter as step-<N>/
        self.say = say or (lambda text: None)  # one line per evaluation (the CLI prints it)
        self.reward, self.prompts, self.behaviours = reward, heldout_prompts, heldout_behaviours
        self.critic, self.labels, self.generate = heldout_critic, heldout_labels, generator
        self.every, self.patience, self.tolerance = every, patience, tolerance
        self.curve: list[dict] = []
        self.best: dict | None = None  # adapter weights of the best point so far
        self.stopped_at: int | None = None
        self.samples: list[dict] = []  # the latest evaluation's answers, for the report

    # -- one evaluation ------------------------------------------------------------------------
    def evaluate(self, model, step: int) -> dict:
        answers, cut = self.generate(model, self.prompts)
        per = self.generate.samples
        behaviours = [b for b in self.behaviours for _ in range(per)]
        scored = self.reward.score(behaviours, answers, cut, remember=False)
        rewards = [s.total for s in scored]
        flat = [(i, t) for i, s in enumerate(scored) for t in s.items]
        critic = self.critic.score([behaviours[i].head for i, _ in flat], [behaviours[i].relation for i, _ in flat],
                                   [t for _, t in flat]) if flat else np.zeros(0)
        per_answer = np.zeros(len(scored))
        for i in range(len(scored)):
            values = [c for (owner, _), c in zip(flat, critic) if owner == i]
            per_answer[i] = float(np.mean(values)) if values else 0.0
        point = {"step": int(step), "reward": round(float(np.mean(rewards)), 4),
                 "heldout_critic": round(float(per_answer.mean()), 4),
                 "agreement": kendall_tau(rewards, per_answer),
                 "parsed_share": round(float(np.mean([bool(s.items) for s in scored])), 4),
                 **filter_measures(scored, behaviours, self.reward.point)}
        if self.labels:
            label_scores = self.reward.score([label_behaviour(r) for r in self.labels],
                                             [f"1. {r['tail']}" for r in self.labels], remember=False)
            human = [bool(r["plausibility"]) for r in self.labels]
            totals = [s.total for s in label_scores]
            point["human_tau"] = kendall_tau(totals, [float(h) for h in human])
            point["human_auc"] = roc_auc(human, totals)
        self.samples = [{"head": b.head, "relation": b.relation, "answer": a, "reward": round(r, 4)}
                        for b, a, r in zip(behaviours, answers, rewards)]
        return point

    def _record(self, model, step: int) -> bool:
        """Evaluate, keep the best adapter, return True when training must stop."""
        point = self.evaluate(model, step)
        self.curve.append(point)
        self.say(f"guard @ step {step}: reward {point['reward']}, held-out critic {point['heldout_critic']}, "
                 f"agreement {point['agreement']}, passes the filter {point['filter_pass_share']}")
        if self.checkpoints is not None:
            model.save_pretrained(str(Path(self.checkpoints) / f"step-{step}"), safe_serialization=True)
        if best_point(self.curve) == len(self.curve) - 1:
            self.best = {"index": len(self.curve) - 1, "step": step, "state": lora_state(model)}
        fired = hacking_at(self.curve, self.patience, self.tolerance)
        if fired is not None:
            self.stopped_at = step
            return True
        return False

    # -- TrainerCallback ------------------------------------------------------------------------
    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if not self.curve:
            self._record(model, state.global_step)
        return control

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step % self.every == 0 and self._record(model, state.global_step):
            control.should_training_stop = True
        return control

    def on_train_end(self, args, state, control, model=None, **kwargs):
        """The last step too, when ``every`` does not divide it and no stop ended the run: "last" is measured."""
        if self.curve and self.curve[-1]["step"] != state.global_step and self.stopped_at is None:
            self._record(model, state.global_step)
        return control

    def restore_best(self, model) -> dict | None:
        """Load the best point's adapter weights into ``model``; returns that point."""
        if self.best is None:
            return None
        model.load_state_dict(self.best["state"], strict=False)
        return self.curve[self.best["index"]]
