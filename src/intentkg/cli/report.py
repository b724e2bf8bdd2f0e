"""``intentkg report``: one self-contained HTML page about a workspace (opens offline)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from intentkg.cli.point_options import PointOptions, with_point_options
from intentkg.operating_point import saved as load_operating_point
from intentkg.workspace import Workspace


@with_point_options
def report(
    workspace: Path = typer.Argument(Path("workspace"), help="Workspace folder."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="HTML file (default: <workspace>/report.html)."),
    examples: int = typer.Option(5, help="Random examples per reason."),
    seed: int = typer.Option(0, help="Seed for the examples."),
    options: PointOptions = PointOptions(),
) -> None:
    """Write an HTML report of a workspace: stages, filter funnel, reasons and examples (no network needed)."""
    import importlib

    from intentkg.report import build_report
    from intentkg.report.registry import PACKAGE_SECTIONS

    for module in PACKAGE_SECTIONS:  # each registers its section
        importlib.import_module(module)

    ws = Workspace(workspace)
    point = options.on(load_operating_point(ws))
    path = build_report(ws, out, seed=seed, examples=examples, options={"operating_point": point})
    Console().print(f"report: {path}", highlight=False)
