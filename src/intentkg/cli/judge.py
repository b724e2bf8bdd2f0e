"""``intentkg judge``: score candidates with an LLM judge and measure it against the human labels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from intentkg.cli.options import FORCE, WORKSPACE

console = Console(soft_wrap=True)


def judge(workspace: Path = WORKSPACE, force: bool = FORCE,
          backend: str = typer.Option("llama_cpp", help="Generation backend (llama_cpp, transformers, openai, ...)."),
          model: str = typer.Option("gemma3-270m", help="Model for that backend (bundled alias, path, name)."),
          option: Optional[list[str]] = typer.Option(None, help="Backend option key=value (JSON values), repeatable."),
          on: str = typer.Option("annotated", help="annotated (measure against people) or candidates."),
          limit: Optional[int] = typer.Option(None, help="Judge only the first N behaviours."),
          group_size: int = typer.Option(8, help="Candidates scored together in one call."),
          max_retries: int = typer.Option(2, help="Retries when an answer is not valid JSON for the group."),
          max_tokens: int = typer.Option(384, help="Tokens per answer."),
          temperature: float = typer.Option(0.2, help="Sampling temperature."),
          seed: int = typer.Option(0, help="Seed of the first attempt (retries add 1, 2, ...).")) -> None:
    """Judge groups of candidates (RULER style) and report Kendall's tau and ROC-AUC against people."""
    from intentkg.errors import ConfigError
    from intentkg.judge.judge import JudgeConfig
    from intentkg.judge.stage import run_judge

    options = {}
    for item in option or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--option {item!r}: write key=value, e.g. --option n_threads=2")
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value
    config = JudgeConfig(backend=backend, model=model, options=options, group_size=group_size,
                         max_retries=max_retries, temperature=temperature, max_tokens=max_tokens, seed=seed)
    manifest = run_judge(workspace, config, on=on, limit=limit, force=force)
    c = manifest.counts
    console.print(f"judged {c.get('groups', 0):,} groups: {c.get('calls', 0):,} calls, {c.get('cache_hits', 0):,} "
                  f"cached, {c.get('retries', 0):,} retries, {c.get('groups_failed', 0):,} groups without a valid "
                  f"answer -> {workspace / 'judge' / 'judgements.parquet'}", highlight=False)
    report_path = workspace / "judge" / "agreement.json"
    if on == "annotated" and report_path.exists():
        report = json.loads(report_path.read_text(encoding="utf-8"))
        table = Table(title=f"judge {report['model_id']} vs human labels")
        for col in ("question", "n", "ROC-AUC", "Kendall tau", "tau within groups", "mean score yes / no"):
            table.add_column(col)
        for q in ("plausibility", "typicality"):
            r = report[q]
            table.add_row(q, str(r["n"]), _f(r["roc_auc"]), _f(r["kendall_tau"]), _f(r["kendall_tau_within_groups"]),
                          f"{_f(r['mean_score_yes'])} / {_f(r['mean_score_no'])}")
        console.print(table)
        if report.get("copied_example"):
            console.print(f"{100 * report['copied_example']:.0f}% of the scores copy the prompt's worked example word for "
                          f"word: this judge is not judging", highlight=False)


def _f(x) -> str:
    return "-" if x is None else f"{x:.3f}"
