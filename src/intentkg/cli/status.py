"""``intentkg status``: each stage of a workspace: is it complete, what it wrote, when, with what counts."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from intentkg.errors import IntentkgError
from intentkg.workspace import Workspace
from intentkg.workspace.health import workspace_states

STYLE = {"complete": "green", "stale": "yellow", "running": "cyan"}


def status(workspace: Path = typer.Argument(Path("workspace"), help="Workspace folder."),
           verify: bool = typer.Option(True, "--verify/--no-verify",
                                       help="Hash every output against its manifest (--no-verify: trust it)."),
           check: bool = typer.Option(False, "--check", help="Exit with status 1 unless every stage is complete."),
           ) -> None:
    """Show each stage of a workspace: complete, failed, interrupted, running, changed or stale; outputs and time."""
    ws = Workspace(workspace)
    states = workspace_states(ws, verify)
    if not states:
        raise IntentkgError(f"{workspace} has no stages yet; start with `intentkg ingest`")
    table = Table(title=str(workspace))
    for column in ("stage", "status", "outputs (rows)", "rejected", "seconds", "finished"):
        table.add_column(column)
    notes = []
    for state in states:
        m = state.manifest
        assert m is not None
        outputs = ", ".join(f"{name} {o.rows:,}" if o.rows is not None else name for name, o in m.outputs.items())
        style = STYLE.get(state.status, "red")
        table.add_row(state.stage, f"[{style}]{state.status}[/]", escape(outputs), str(m.counts.get("rejected", "")),
                      f"{m.seconds:.1f}", m.finished_at)
        if state.detail:
            notes.append(f"[{style}]{state.stage}[/]: {escape(state.detail)}")
    console = Console()
    console.print(table)
    for note in notes:
        console.print(note, highlight=False)
    if check and not all(s.status == "complete" for s in states):
        raise typer.Exit(1)
