"""``intentkg refine``: GRPO on the generator with the filter + critic (+ judge) reward, guarded."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from intentkg.cli.options import FORCE, WORKSPACE

console = Console(soft_wrap=True)
app = typer.Typer(help="Refine the generator with GRPO (docs/refine.md).", invoke_without_command=True,
                  no_args_is_help=False)

MEASURES = (("reward", "mean reward"), ("heldout_critic", "held-out critic"), ("agreement", "reward~held-out critic tau"),
            ("human_tau", "reward~human tau"), ("human_auc", "reward~human ROC-AUC"),
            ("filter_pass_share", "passes the filter"), ("critic_pass_rate", "critic pass rate"),
            ("distinct_tails", "distinct tails"), ("parsed_share", "answers that parse"))


@app.callback()
def refine(ctx: typer.Context, workspace: Path = WORKSPACE, force: bool = FORCE,
           config: Optional[Path] = typer.Option(None, "--config", "-c", help="refine.yaml (docs/refine.md)."),
           model: Optional[str] = typer.Option(None, help="Policy: bundled alias, GGUF file, HF folder or name."),
           steps: Optional[int] = typer.Option(None, help="Optimiser steps."),
           beta: Optional[float] = typer.Option(None, help="KL weight to the reference model (0: off)."),
           judge_weight: Optional[float] = typer.Option(None, help="Weight of the judge component (0: no judge)."),
           no_gguf: bool = typer.Option(False, "--no-gguf", help="Skip the GGUF export.")) -> None:
    """Train the policy with GRPO; the guard stops it when the reward parts from held-out measures."""
    if ctx.invoked_subcommand is not None:
        return
    from intentkg.refine.config import load_config
    from intentkg.refine.stage import run_refine

    cfg = load_config(config)
    if model:
        cfg.model = model
    if steps:
        cfg.train.steps = steps
    if beta is not None:
        cfg.train.beta = beta
    if judge_weight is not None:
        cfg.reward.weights["judge"] = judge_weight
    if no_gguf:
        cfg.export_gguf = False
    manifest = run_refine(workspace, cfg, force=force)
    show(manifest.counts, manifest.extra.get("guard") or {})
    console.print(f"outputs: {workspace / 'refine'} (adapter/, merged/{'' if no_gguf else ', policy.gguf'})",
                  highlight=False)


@app.command("eval")
def evaluate(workspace: Path = WORKSPACE) -> None:
    """Before / after on held-out behaviours, and the guard's curve, from the last refine run."""
    from intentkg.errors import IntentkgError
    from intentkg.workspace import Workspace

    manifest = Workspace(workspace).manifest("refine")
    if manifest is None or manifest.status != "complete":
        raise IntentkgError(f"{workspace} has no complete refine run; run `intentkg refine -w {workspace}` first")
    show(manifest.counts, manifest.extra.get("guard") or {})


def show(counts: dict, guard: dict) -> None:
    before, after = counts.get("before") or {}, counts.get("after") or {}
    table = Table(title="held-out behaviours: before / after refine")
    for col in ("measure", "before", "after"):
        table.add_column(col)
    for key, label in MEASURES:
        table.add_row(label, _f(before.get(key)), _f(after.get(key)))
    console.print(table)
    curve = guard.get("curve") or []
    if curve:
        steps = ", ".join(f"{p['step']}: {_f(p.get('reward'))}/{_f(p.get('heldout_critic'))}" for p in curve)
        console.print(f"curve (step: reward / held-out critic): {steps}", highlight=False)
    if guard.get("stopped_at") is not None:
        console.print(f"the guard stopped training at step {guard['stopped_at']}; kept step "
                      f"{(guard.get('best') or {}).get('step')}", highlight=False)


def _f(x) -> str:
    if x is None:
        return "-"
    return f"{x:.3f}" if isinstance(x, float) else str(x)
