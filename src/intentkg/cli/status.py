"""``intentkg status``: what each stage of a workspace wrote, when, and with what counts."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from intentkg.errors import IntentkgError
from intentkg.workspace import Workspace


def status(workspace: Path = typer.Argument(Path("workspace"), help="Workspace folder.")) -> None:
    """Show each stage of a workspace: status, outputs with row counts, time taken."""
    ws = Workspace(workspace)
    stages = ws.stages()
    if not stages:
        raise IntentkgError(f"{workspace} has no stages yet; start with `intentkg ingest`")
    table = Table(title=str(workspace))
    for column in ("stage", "status", "outputs (rows)", "rejected", "seconds", "finished"):
        table.add_column(column)
    for stage in stages:
        m = ws.manifest(stage)
        assert m is not None
        outputs = ", ".join(f"{name} {o.rows:,}" for name, o in m.outputs.items())
        table.add_row(stage, m.status, outputs, str(m.counts.get("rejected", "")), f"{m.seconds:.1f}",
                      m.finished_at)
    Console().print(table)
