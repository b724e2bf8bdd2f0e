"""``intentkg filter`` (score every candidate) and ``intentkg view`` (apply an operating point to the scores)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from intentkg.cli.options import ENGINE, FORCE, WORKSPACE
from intentkg import operating_point
from intentkg.cli.point_options import PointOptions, with_point_options
from intentkg.engine.settings import with_engine_name
from intentkg.errors import ConfigError, IntentkgError
from intentkg.filter.config import load_config
from intentkg.workspace import Workspace

console = Console()

CONFIG = typer.Option(None, "--config", "-c", help="YAML filter config (docs/filter.md).")


@with_point_options
def filter_(
    workspace: Path = WORKSPACE, force: bool = FORCE, config: Optional[Path] = CONFIG,
    critic: Optional[Path] = typer.Option(None, help="Critic folder (overrides critic.path in the config)."),
    critic_student: Optional[str] = typer.Option(
        None, help="A GGUF student (e.g. <ws>/distill/student.gguf) whose yes/no answers are the critic "
                   "(overrides critic.student in the config; docs/distill.md)."),
    completeness: Optional[str] = typer.Option(
        None, help="Completeness source: auto, generation, llama or none (overrides the config)."),
    no_similarity: bool = typer.Option(False, "--no-similarity", help="Skip input-similarity scores."),
    no_semantic_dedup: bool = typer.Option(False, "--no-semantic-dedup", help="Lexical dedup only."),
    engine: Optional[str] = ENGINE,
    options: PointOptions = PointOptions(),
) -> None:
    """Score every generated candidate (rules, completeness, similarity, dedup, critic) and print the funnel.

    Scores are stored in <workspace>/filter/scores.parquet; thresholds only decide the funnel shown and
    the workspace's default operating point, so changing them re-runs nothing.
    """
    from intentkg.filter import run_filter  # the filter extra (scipy, datasketch, rapidfuzz, ...)

    cfg = load_config(config)
    if critic is not None:
        cfg.critic.path, cfg.critic.student = critic, None
    if critic_student is not None:
        cfg.critic.student, cfg.critic.path = Path(critic_student), None
    if completeness is not None:
        if completeness not in ("auto", "generation", "llama", "none"):
            raise ConfigError(f"--completeness {completeness!r}: use auto, generation, llama or none")
        cfg.completeness.scorer = completeness  # type: ignore[assignment]
    if engine is not None:
        cfg.engine = with_engine_name(cfg.engine, engine)
    if no_similarity:
        cfg.similarity.enabled = False
    if no_semantic_dedup:
        cfg.dedup.semantic = False
    cfg.thresholds = options.on(cfg.thresholds)
    manifest, _ = run_filter(Workspace(workspace), cfg, force=force)
    scores = Workspace(workspace).output_path("filter", "scores")  # a folder of parts when written on Ray
    console.print(f"scores: {scores}  "
                  f"({manifest.counts.get('candidates', 0):,} candidates, {manifest.seconds:.1f} s)", highlight=False)
    _critic_hint(cfg, workspace)


def _critic_hint(cfg, workspace: Path) -> None:
    """Point at the thresholds the critic's trainer chose (target precision on dev), if it recorded them."""
    if cfg.critic.path is None:
        return
    try:
        _, chosen = operating_point.critic_thresholds(cfg.critic.path)
    except IntentkgError:
        return
    options = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in chosen.items())
    typicality = f" --min-typicality {chosen['min_typicality']}" if "min_typicality" in chosen else ""
    console.print(f"the critic's trainer recommends {options} (its target precision on dev); take its plausibility "
                  f"threshold with: intentkg view -w {workspace} --critic-metadata {cfg.critic.path} --save"
                  f"{' (add' + typicality + ' to gate on typicality too)' if typicality else ''}", highlight=False)


@with_point_options
def view(
    workspace: Path = WORKSPACE, config: Optional[Path] = typer.Option(
        None, "--config", "-c", help="Filter config whose thresholds to start from (default: the workspace's)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the view (scores + kept, reasons) here."),
    only_kept: bool = typer.Option(False, "--only-kept", help="With --out: write only the kept rows."),
    save: bool = typer.Option(False, "--save", help="Make this the workspace's default operating point."),
    options: PointOptions = PointOptions(),
) -> None:
    """Apply an operating point to the stored scores, without re-scoring: print the funnel, optionally write it."""
    from intentkg.filter import write_view
    from intentkg.filter.stage import funnel_at

    ws = Workspace(workspace)
    base = load_config(config).thresholds if config else operating_point.saved(ws)
    point = options.on(base)
    if out is not None:
        counts = write_view(ws, point, out, only_kept=only_kept)
        console.print(f"wrote {out}: {counts['rows'] if not only_kept else counts['kept']:,} rows "
                      f"({counts['kept']:,} kept of {counts['rows']:,})", highlight=False)
    funnel_at(ws, point).print(console, title=f"funnel at {point.model_dump(exclude_defaults=False)}")
    if save:
        operating_point.save(ws, point)
        console.print(f"saved as the default operating point of {workspace}", highlight=False)
