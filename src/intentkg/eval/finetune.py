"""The fine-tuned variant (on request): the cross-encoder unfrozen, trained end to end with a linear
head, without and with knowledge text, for the comparison COSMO makes (+28% macro-F1 fine-tuned).

Short by design: ``epochs`` passes (default 2) of AdamW with a linear decay, class-weighted
cross-entropy, mean pooling, ``max_length`` tokens. Same pairs, splits, bootstrap and lift as the
frozen comparison; the result row has ``encoder: cross-finetuned`` and ``head: linear``. It runs the
4-class task (``finetune.tasks`` adds substitute identification); seeds come from ``finetune.seeds``.
On CPU this takes minutes per setting on the demo set; pass ``--device cuda`` where there is a GPU.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from intentkg.eval.config import SETTINGS, TASKS, EvalConfig
from intentkg.eval.esci_data import EsciData
from intentkg.eval.experiment import prediction_table, task_targets
from intentkg.eval.heads import balanced_weights
from intentkg.eval.inputs import Knowledge, cross_texts
from intentkg.eval.metrics import compare
from intentkg.model_folder import resolve
from intentkg.progress import bar

ENCODER = "cross-finetuned"


def _batches(n: int, size: int, rng: np.random.Generator | None):
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for start in range(0, n, size):
        yield order[start:start + size]


def train_predict(texts: list[str], y: np.ndarray, train: np.ndarray, test: np.ndarray, n_classes: int,
                  config: EvalConfig, seed: int, progress=None) -> np.ndarray:
    """Fine-tune a fresh copy of the encoder plus a linear head on ``train``; predict ``test``."""
    import torch
    from transformers import AutoModel

    ft = config.finetune
    torch.manual_seed(seed)
    folder = resolve(config.cross_model, what="cross-encoder")
    tokenizer = folder.tokenizer()
    encoder = folder.load(AutoModel).to(config.device)
    head = torch.nn.Linear(encoder.config.hidden_size, n_classes).to(config.device)
    params = list(encoder.parameters()) + list(head.parameters())
    optimizer = torch.optim.AdamW(params, lr=ft.lr, weight_decay=0.01)
    steps = ft.epochs * int(np.ceil(len(train) / ft.batch_size))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(0.0, 1.0 - s / max(steps, 1)))
    weights = balanced_weights(y[train])
    class_weight = np.ones(n_classes, dtype=np.float32)
    for c in np.unique(y[train]):
        class_weight[c] = weights[y[train] == c][0]
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor(class_weight, device=config.device))

    def forward(rows: np.ndarray):
        batch = tokenizer([texts[i] for i in rows], padding=True, truncation=True, max_length=ft.max_length,
                          return_tensors="pt").to(config.device)
        hidden = encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return head((hidden * mask).sum(1) / mask.sum(1).clamp(min=1))

    rng = np.random.default_rng(seed)
    encoder.train()
    for _ in range(ft.epochs):
        for rows in _batches(len(train), ft.batch_size, rng):
            optimizer.zero_grad()
            loss = loss_fn(forward(train[rows]), torch.tensor(y[train[rows]], device=config.device))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            if progress is not None:
                progress.advance(len(rows))
    encoder.eval()
    out = []
    with torch.inference_mode():
        for rows in _batches(len(test), 64, None):
            out.append(forward(test[rows]).argmax(-1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def finetune_compare(data: EsciData, knowledge: Knowledge, config: EvalConfig, parts
                     ) -> tuple[list[dict], pa.Table]:
    ft = config.finetune
    labels = data.pairs.column("label").to_pylist()
    evaluated = np.concatenate([test for _, test in parts])
    groups = np.array(data.pairs.column("query_id").to_pylist(), dtype=object)[evaluated]
    texts = {s: cross_texts(data, knowledge, s) for s in SETTINGS}
    tasks = ft.tasks
    total = ft.seeds * len(SETTINGS) * len(tasks) * ft.epochs * sum(len(train) for train, _ in parts)
    results, tables = [], []
    with bar("fine-tuning the cross-encoder", total=total, unit="pairs") as progress:
        for task in tasks:
            y = task_targets(labels, task)
            predictions: dict[str, list[np.ndarray]] = {s: [] for s in SETTINGS}
            for seed in range(ft.seeds):
                for setting in SETTINGS:
                    predicted = [train_predict(texts[setting], y, train, test, len(TASKS[task]), config, seed,
                                               progress) for train, test in parts]
                    predictions[setting].append(np.concatenate(predicted))
            scored = compare(y[evaluated], groups, predictions["without"], predictions["with"], TASKS[task],
                             n_boot=config.n_boot, seed=0)
            results.append({"encoder": ENCODER, "head": "linear", "task": task, **scored})
            tables.append(prediction_table(data, evaluated, ENCODER, "linear", task, y, predictions))
    return results, pa.concat_tables(tables)
