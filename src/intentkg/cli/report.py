"""``intentkg report``: one self-contained HTML page about a workspace (opens offline)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from intentkg.cli.point_options import (IGNORE_FLAG, MAX_SIMILARITY, MIN_COMPLETENESS, MIN_PLAUSIBILITY,
                                        MIN_TYPICALITY, OFF, thresholds_from)
from intentkg.operating_point import saved as load_operating_point
from intentkg.workspace import Workspace


def report(
    workspace: Path = typer.Argument(Path("workspace"), help="Workspace folder."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="HTML file (default: <workspace>/report.html)."),
    examples: int = typer.Option(5, help="Random examples per reason."),
    seed: int = typer.Option(0, help="Seed for the examples."),
    min_completeness: Optional[float] = MIN_COMPLETENESS, max_input_similarity: Optional[float] = MAX_SIMILARITY,
    min_plausibility: Optional[float] = MIN_PLAUSIBILITY, min_typicality: Optional[float] = MIN_TYPICALITY,
    ignore_flag: Optional[list[str]] = IGNORE_FLAG, off: Optional[list[str]] = OFF,
) -> None:
    """Write an HTML report of a workspace: stages, filter funnel, reasons and examples (no network needed)."""
    import importlib

    from intentkg.report import build_report
    from intentkg.report.registry import PACKAGE_SECTIONS

    for module in PACKAGE_SECTIONS:  # each registers its section
        importlib.import_module(module)

    ws = Workspace(workspace)
    point = thresholds_from(load_operating_point(ws), min_completeness, max_input_similarity, min_plausibility,
                            min_typicality, ignore_flag, off)
    path = build_report(ws, out, seed=seed, examples=examples, options={"operating_point": point})
    Console().print(f"report: {path}", highlight=False)
