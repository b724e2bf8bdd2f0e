"""``intentkg train-critic``: the ``critic`` stage of a workspace.

Reads the final labels of the annotation snapshot (``annotate/labels.parquet``, refreshed from the
store first), trains one classifier per task (plausibility, typicality), calibrates it on dev,
picks the threshold for the target precision on dev, measures on test, and writes the critic
folder ``<ws>/critic/``::

    intentkg_critic.json     name, template, max_length (the filter's contract) + metrics,
                             thresholds, calibration, training config, annotation snapshot hash
    plausibility/            a Hugging Face sequence-classification model (safetensors + tokenizer)
    typicality/              the same for typicality
    training_labels.parquet  the labels it was trained on, with their split
    critic_predictions.parquet  dev and test predictions (raw and calibrated)
    manifest.json
"""

from __future__ import annotations

import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from intentkg.annotate.stage import EXPORT_STAGE, run_export
from intentkg.critic import TASKS
from intentkg.critic.calibrate import fit_isotonic, fit_platt, fold_platt, sigmoid
from intentkg.critic.dataset import assign_splits, build_examples, part
from intentkg.critic.metrics import PRIMARY, evaluate, expected_calibration_error
from intentkg.critic.threshold import threshold_for_precision
from intentkg.critic.train import BUNDLED, TrainConfig, base_folder, fit, load, margins, save
from intentkg.errors import IntentkgError
from intentkg.progress import bar, console
from intentkg.workspace import Manifest, Workspace
from intentkg.workspace.fingerprint import hash_json, sha256_path

STAGE = "critic"
META_FILE = "intentkg_critic.json"
MIN_EXAMPLES = 20
PREDICTIONS = pa.schema([
    pa.field("candidate_id", pa.string(), nullable=False), pa.field("task", pa.string(), nullable=False),
    pa.field("split", pa.string(), nullable=False), pa.field("label", pa.bool_(), nullable=False),
    pa.field("raw", pa.float64(), nullable=False), pa.field("calibrated", pa.float64(), nullable=False),
])


@dataclass
class CriticConfig:
    train: TrainConfig = field(default_factory=TrainConfig)
    tasks: tuple[str, ...] = TASKS
    target_precision: float = 0.9
    calibration: str = "platt"  # platt | none
    split: tuple[float, float, float] = (0.6, 0.2, 0.2)
    split_seed: int = 0
    name: str = "critic"
    template: str | None = None  # default: intentkg.critic.template.DEFAULT_TEMPLATE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _train_task(task: str, rows: list[dict], splits: dict[str, str], config: CriticConfig, template: str,
                out: Path) -> tuple[dict[str, Any], list[dict]]:
    examples, counts = build_examples(rows, task, splits, template)
    train, dev, test = part(examples, "train"), part(examples, "dev"), part(examples, "test")
    if len(train) < MIN_EXAMPLES or not dev or not test or len({e.label for e in train}) < 2:
        raise IntentkgError(f"critic {task}: too few labelled candidates ({len(train)} train, {len(dev)} dev, "
                            f"{len(test)} test, need {MIN_EXAMPLES}+ train with both answers); annotate more")
    model, tokenizer = load(config.train.model, config.train.seed)
    started = time.perf_counter()
    with bar(f"critic {task}", config.train.epochs * len(train), unit="examples") as b:
        losses = fit(model, tokenizer, [e.text for e in train], [e.label for e in train], config.train, b)
    train_seconds = time.perf_counter() - started
    dev_y, test_y = np.array([e.label for e in dev]), np.array([e.label for e in test])
    dev_m = margins(model, tokenizer, [e.text for e in dev], config.train.max_length)
    test_m = margins(model, tokenizer, [e.text for e in test], config.train.max_length)
    a, b_ = fit_platt(dev_m, dev_y) if config.calibration == "platt" else (1.0, 0.0)
    dev_p, test_p = sigmoid(a * dev_m + b_), sigmoid(a * test_m + b_)
    chosen = threshold_for_precision(dev_y, dev_p, config.target_precision)
    iso = fit_isotonic(dev_m, dev_y)
    if config.calibration == "platt":
        fold_platt(model, a, b_)
    save(model, tokenizer, out / task)
    metrics = {
        "examples": dict(counts), "epoch_losses": losses, "train_seconds": round(train_seconds, 1),
        "test_raw": evaluate(test_y, sigmoid(test_m)),
        "test": evaluate(test_y, test_p, 0.5),
        "test_at_threshold": evaluate(test_y, test_p, chosen["threshold"]),
        "dev": evaluate(dev_y, dev_p, chosen["threshold"]),
        "test_ece_isotonic": round(expected_calibration_error(test_y, iso.predict(test_m)), 4),
    }
    calibration = {"method": config.calibration, "a": round(a, 6), "b": round(b_, 6), "folded_into_weights":
                   config.calibration == "platt"}
    preds = [{"candidate_id": e.candidate_id, "task": task, "split": s, "label": bool(e.label), "raw": float(sigmoid(m)),
              "calibrated": float(p)}
             for s, items, ms, ps in (("dev", dev, dev_m, dev_p), ("test", test, test_m, test_p))
             for e, m, p in zip(items, ms, ps)]
    return {"metrics": metrics, "threshold": chosen, "calibration": calibration}, preds


def run_train_critic(workspace: str | Path | Workspace, config: CriticConfig | None = None,
                     force: bool = False, copy_to: Path | None = None) -> Manifest:
    from intentkg.critic.template import DEFAULT_TEMPLATE, TRUNCATION_SIDE

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    config = config or CriticConfig()
    template = config.template or DEFAULT_TEMPLATE
    export = run_export(ws)
    snapshot_hash = export.extra.get("snapshot_sha256") or export.config.get("snapshot")
    base = base_folder(config.train.model)
    model_path = str(base.path)
    cfg = dict(config.to_dict(), template=template, model_sha256=base.hash())
    with ws.run(STAGE, config=cfg, inputs=[EXPORT_STAGE], force=force) as run:
        if not run.skipped:
            rows = pq.read_table(ws.table_path(EXPORT_STAGE, "labels")).to_pylist()
            splits = assign_splits(rows, config.split, config.split_seed)
            staging = run.tmp  # every part is an output of the run, committed with its manifest
            results, predictions = {}, []
            for task in config.tasks:
                results[task], preds = _train_task(task, rows, splits, config, template, staging)
                predictions.extend(preds)
            digest = hash_json([sha256_path(p) for p in sorted(staging.rglob("*.safetensors"))])
            meta = {
                "name": config.name, "critic_id": f"{config.name}@{digest[:12]}", "template": template,
                "max_length": config.train.max_length, "truncation_side": TRUNCATION_SIDE, "tasks": list(config.tasks),
                "primary_metric": PRIMARY, "target_precision": config.target_precision,
                "thresholds": {t: results[t]["threshold"]["threshold"] for t in config.tasks},
                "threshold_details": {t: results[t]["threshold"] for t in config.tasks},
                "metrics": {t: results[t]["metrics"] for t in config.tasks},
                "calibration": {t: results[t]["calibration"] for t in config.tasks},
                "base_model": "all-MiniLM-L6-v2 (bundled)" if config.train.model in BUNDLED else config.train.model,
                "base_model_path": model_path, "train": config.train.to_dict(),
                "split": {"fractions": list(config.split), "seed": config.split_seed, "grouped_by": "head",
                          "counts": {s: sum(v == s for v in splits.values()) for s in ("train", "dev", "test")}},
                "annotations": {"snapshot_sha256": snapshot_hash, "rows": len(rows),
                                "source": ws.stored(ws.table_path(EXPORT_STAGE, "labels"))},
            }
            run.write_json(META_FILE, meta)
            training = pa.Table.from_pylist([dict(r, split=splits[r["candidate_id"]]) for r in rows])
            run.write("training_labels", training, schema=training.schema)
            run.write("critic_predictions", pa.Table.from_pylist(predictions, schema=PREDICTIONS), schema=PREDICTIONS)
            for task in config.tasks:
                run.register(task)
                run.add_model("critic", f"{meta['critic_id']}/{task}", staging / task / "model.safetensors")
            run.counts.update({t: {"roc_auc": results[t]["metrics"]["test"]["roc_auc"],
                                   "f1_at_threshold": results[t]["metrics"]["test_at_threshold"]["f1"],
                                   "threshold": results[t]["threshold"]["threshold"]} for t in config.tasks})
            run.extra["critic_id"] = meta["critic_id"]
    if copy_to is not None:
        copy_critic(ws.stage_dir(STAGE), copy_to, config.tasks)
    return ws.manifest(STAGE)  # type: ignore[return-value]


def copy_critic(folder: Path, target: Path, tasks=TASKS) -> Path:
    """Copy the critic folder's model parts (not the manifest) to ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for name in (*tasks, META_FILE, "training_labels.parquet"):
        source, dest = folder / name, target / name
        if source.is_dir():
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(source, dest)
        elif source.exists():
            shutil.copy2(source, dest)
    console.print(f"critic copied to {target}", highlight=False)
    return target
