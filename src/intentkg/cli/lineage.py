"""``intentkg lineage``: print the chain from a row back to the inputs it came from."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from intentkg.errors import IntentkgError
from intentkg.workspace import Workspace
from intentkg.workspace.lineage import LineageNode, trace

SHOWN = 160  # characters of each value shown


def _label(node: LineageNode) -> str:
    fields = ", ".join(
        f"{k}={escape(str(v))[:SHOWN]!s}" for k, v in node.row.items()
        if v is not None and k not in ("source", "source_file", "source_row")
    )
    text = f"[bold]{node.table}[/] [cyan]{escape(node.key)}[/] (stage {node.stage}): {fields}"
    if node.row.get("source_file"):
        text += f"\n[green]input: {escape(str(node.row['source_file']))} row {node.row.get('source_row')}[/]"
    for model in node.stage_info.get("models", []):
        text += f"\n[magenta]model {escape(model)}[/]"
    return text


def _add(tree: Tree, node: LineageNode) -> None:
    branch = tree.add(_label(node))
    for parent in node.parents:
        _add(branch, parent)


def lineage(workspace: Path = typer.Argument(..., help="Workspace folder."),
            row_id: str = typer.Argument(..., help="Any row id: edge, candidate, behavior or product id."),
            table: Optional[str] = typer.Option(None, help="Look only in this table.")) -> None:
    """Print the chain from a row back to the input files and rows it came from."""
    ws = Workspace(workspace)
    if not ws.stages():
        raise IntentkgError(f"{workspace} is not a workspace (no stage folders with manifest.json)")
    node = trace(ws, row_id, table)
    if node is None:
        raise IntentkgError(f"no table in {workspace} has a row with id {row_id!r}")
    tree = Tree(f"lineage of {escape(row_id)}")
    _add(tree, node)
    console = Console()
    console.print(tree)
    console.print("[bold]rests on input rows:[/]")
    for file, row in node.input_files():
        console.print(f"  {escape(str(file))} row {row}", highlight=False)
