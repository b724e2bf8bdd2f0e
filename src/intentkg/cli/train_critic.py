"""``intentkg train-critic``: fine-tune plausibility and typicality critics on the annotations."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from intentkg.cli.options import FORCE, WORKSPACE

console = Console(soft_wrap=True)


def train_critic(workspace: Path = WORKSPACE, force: bool = FORCE,
                 model: str = typer.Option("bundled", help="Encoder: 'bundled' (all-MiniLM-L6-v2), a local folder "
                                           "or a cached Hugging Face name (e.g. microsoft/deberta-v3-base)."),
                 epochs: int = typer.Option(4, help="Training epochs."),
                 batch_size: int = typer.Option(8, help="Examples per step."),
                 learning_rate: float = typer.Option(1e-4, help="AdamW learning rate."),
                 max_length: int = typer.Option(64, help="Tokens per input (head | relation | tail)."),
                 target_precision: float = typer.Option(0.9, help="Pick the threshold reaching this precision on dev."),
                 calibration: str = typer.Option("platt", help="platt (folded into the weights) or none."),
                 task: Optional[list[str]] = typer.Option(None, help="plausibility and/or typicality (default both)."),
                 seed: int = typer.Option(0, help="Seed for the split and training."),
                 threads: Optional[int] = typer.Option(None, help="CPU threads for torch."),
                 annotations: Optional[str] = typer.Option(
                     None, help="Import these labels into the workspace store first ('demo' for the bundled ones)."),
                 out: Optional[Path] = typer.Option(None, help="Also copy the critic folder here.")) -> None:
    """Train critics on the workspace's annotations; writes <workspace>/critic/ for the filter stage."""
    from intentkg.critic import TASKS
    from intentkg.critic.stage import CriticConfig, run_train_critic
    from intentkg.critic.train import TrainConfig
    from intentkg.errors import ConfigError

    if calibration not in ("platt", "none"):
        raise ConfigError(f"--calibration {calibration!r}: use platt or none")
    tasks = tuple(task or TASKS)
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise ConfigError(f"--task {unknown[0]!r}: use plausibility or typicality")
    if annotations:
        from intentkg.cli.annotate import import_

        import_(annotations, workspace=workspace, format="auto", users=None)
    config = CriticConfig(train=TrainConfig(model=model, epochs=epochs, batch_size=batch_size,
                                            learning_rate=learning_rate, max_length=max_length, seed=seed,
                                            threads=threads),
                          tasks=tasks, target_precision=target_precision, calibration=calibration, split_seed=seed)
    manifest = run_train_critic(workspace, config, force=force, copy_to=out)
    _print(workspace / "critic", manifest)


def _print(folder: Path, manifest) -> None:
    import json

    meta = json.loads((folder / "intentkg_critic.json").read_text(encoding="utf-8"))
    table = Table(title=f"critic {meta['critic_id']}: held-out test split", caption="thr = threshold for precision "
                  f"{meta['target_precision']} on dev; P/R/F1 at thr; P@R.8 = best precision at recall 0.8; "
                  "ECE after calibration (all metrics: intentkg_critic.json)")
    table.add_column("task", no_wrap=True)
    for col in ("n", "ROC-AUC", "thr", "P", "R", "F1", "P@R.8", "ECE"):
        table.add_column(col)
    for task in meta["tasks"]:
        m = meta["metrics"][task]
        at = m["test_at_threshold"]
        table.add_row(task, str(at["n"]), _f(m["test"]["roc_auc"]), _f(meta["thresholds"][task]), _f(at["precision"]),
                      _f(at["recall"]), _f(at["f1"]), _f(at["precision_at_recall"]["0.8"]),
                      _f(m["test"]["ece"]))
    console.print(table)
    console.print(f"saved to {folder} ({manifest.finished_at}); the filter stage loads it with "
                  f"critic.path: {folder}", highlight=False)


def _f(x) -> str:
    return "-" if x is None else f"{x:.3f}"
