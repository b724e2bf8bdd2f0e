"""The critic step: plausibility and typicality from Hugging Face sequence-classification models.

The critic folder contract (docs/filter.md, "Critic folder") — what train-critic saves:

1. One multi-label model: ``config.json`` with ``problem_type: multi_label_classification`` and
   ``id2label`` naming ``plausibility`` and/or ``typicality``; each is ``sigmoid(logit)``.
2. One single-task model: ``num_labels`` 1 (``sigmoid(logit)``) or 2 (``softmax``, probability of
   label 1, or of the label named yes / true / positive / plausible / typical). Which score it is
   comes from ``intentkg_critic.json`` ``"task"`` (default ``plausibility``).
3. Two sub-folders ``plausibility/`` and ``typicality/``, each a single-task model (form 2).

Optional ``intentkg_critic.json`` next to ``config.json`` (or at the top of form 3)::

    {"name": "critic-v1", "template": "{head} | {relation} | {tail}", "max_length": 256, "task": "plausibility",
     "truncation_side": "left"}

The model input is one text, ``template.format(head=..., relation=..., tail=...)`` with the relation
written in words ("used for event"); train with :func:`critic_input` so training and scoring match.
An input longer than ``max_length`` loses tokens on ``truncation_side`` (default right; train-critic
writes left, keeping the relation and tail).
The folder is opened by :mod:`intentkg.model_folder`: safetensors only, never remote code, a
damaged file is one line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from intentkg.critic.template import DEFAULT_TEMPLATE, critic_input
from intentkg.errors import ConfigError
from intentkg.progress import bar
from intentkg.workspace.fingerprint import hash_json, sha256_path

TASKS = ("plausibility", "typicality")
DEFAULT_MAX_LENGTH = 256
META_FILE = "intentkg_critic.json"
_POSITIVE = ("yes", "true", "positive", "plausible", "typical", "1", "label_1")


def _meta(folder: Path) -> dict:
    path = folder / META_FILE
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from exc


@dataclass
class _Head:
    """One loaded model and which of its outputs are which task."""

    model: object
    tokenizer: object
    outputs: dict[str, tuple[str, int]]  # task -> (activation: sigmoid | softmax, index)


def _load_head(folder: Path, default_task: str, device: str, truncation_side: str = "right") -> _Head:
    from transformers import AutoModelForSequenceClassification

    from intentkg.model_folder import resolve

    try:
        checked = resolve(folder, what="critic folder")  # config.json, safetensors only, headers sound
        model = checked.load(AutoModelForSequenceClassification)
        tokenizer = checked.tokenizer(truncation_side=truncation_side)
    except ConfigError as exc:
        raise ConfigError(f"{exc}; train the critic again (intentkg train-critic) or copy the folder again") from None
    model.to(device).eval()
    labels = {int(k): str(v) for k, v in (model.config.id2label or {}).items()}
    named = {t: i for i, name in labels.items() for t in TASKS if name.lower() == t}
    outputs: dict[str, tuple[str, int]] = {}
    if named:
        if model.config.problem_type != "multi_label_classification" and len(labels) > 1:
            raise ConfigError(f"critic {folder}: labels {sorted(named)} need problem_type "
                              f"multi_label_classification in config.json (one sigmoid per label)")
        outputs = {t: ("sigmoid", i) for t, i in named.items()}
    elif model.config.num_labels == 1:
        outputs = {default_task: ("sigmoid", 0)}
    elif model.config.num_labels == 2:
        positive = next((i for i, name in labels.items() if name.lower() in _POSITIVE), 1)
        outputs = {default_task: ("softmax", positive)}
    else:
        raise ConfigError(f"critic {folder}: {model.config.num_labels} labels {labels}; expected 1 or 2, "
                          f"or labels named plausibility/typicality (docs/filter.md)")
    return _Head(model, tokenizer, outputs)


class Critic:
    """A loaded critic folder; ``score`` fills plausibility and typicality."""

    def __init__(self, path: str | Path, device: str = "cpu", batch_size: int = 32,
                 max_length: int | None = None):
        self.path = Path(path)
        if not self.path.is_dir():
            raise ConfigError(f"critic.path {self.path} is not a folder; see docs/filter.md, 'Critic folder'")
        meta = _meta(self.path)
        self.template = meta.get("template", DEFAULT_TEMPLATE)
        self.max_length = max_length or int(meta.get("max_length", DEFAULT_MAX_LENGTH))
        self.batch_size = batch_size
        self.device = device
        side = meta.get("truncation_side", "right")  # which end a long input loses (critic/template.py)
        if side not in ("left", "right"):
            raise ConfigError(f"{self.path / META_FILE}: truncation_side {side!r}: use left or right")
        subfolders = [self.path / t for t in TASKS if (self.path / t / "config.json").exists()]
        if subfolders:
            self.heads = [_load_head(f, f.name, device, side) for f in subfolders]
        else:
            self.heads = [_load_head(self.path, meta.get("task", "plausibility"), device, side)]
        self.tasks = sorted({t for h in self.heads for t in h.outputs})
        digest = hash_json([sha256_path(p) for p in sorted(self.path.rglob("*.safetensors"))])
        self.critic_id = f"{meta.get('name', self.path.name)}@{digest[:12]}"
        self.weights = sorted(self.path.rglob("*.safetensors"))

    def score(self, heads: Sequence[str], relations: Sequence[str], tails: Sequence[str],
              progress: bool = False) -> dict[str, np.ndarray]:
        """Task -> probabilities (float64, one per row)."""
        texts = [critic_input(h, r, t, self.template) for h, r, t in zip(heads, relations, tails)]
        unique = list(dict.fromkeys(texts))
        scores = {task: np.full(len(unique), np.nan) for task in self.tasks}
        order = sorted(range(len(unique)), key=lambda i: len(unique[i]))
        if progress:
            with bar("critic", len(unique), unit="texts") as b:
                self._run(unique, order, scores, b)
        else:
            self._run(unique, order, scores, None)
        index = {text: i for i, text in enumerate(unique)}
        rows = np.fromiter((index[t] for t in texts), dtype=np.int64, count=len(texts))
        return {task: np.round(values[rows], 4) for task, values in scores.items()}

    def _run(self, unique: list[str], order: list[int], scores: dict[str, np.ndarray], progress) -> None:
        import torch

        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start:start + self.batch_size]
                batch = [unique[i] for i in chunk]
                for head in self.heads:
                    encoded = head.tokenizer(batch, padding=True, truncation=True, max_length=self.max_length,
                                             return_tensors="pt").to(self.device)
                    logits = head.model(**encoded).logits.float()
                    for task, (activation, index) in head.outputs.items():
                        if activation == "sigmoid":
                            values = torch.sigmoid(logits[:, index])
                        else:
                            values = torch.softmax(logits, dim=-1)[:, index]
                        scores[task][chunk] = values.cpu().numpy()
                if progress is not None:
                    progress.advance(len(chunk))
