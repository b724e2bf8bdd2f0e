"""``intentkg lineage``: print the chain from a row back to the inputs it came from, and the models
that wrote it back to their base and teacher; ``--declare`` records an original model's origin."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from intentkg.errors import ConfigError, IntentkgError
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


def _generators(node: LineageNode) -> dict[str, str]:
    """model hash -> model id of every candidate in the tree."""
    found = {}
    if node.table == "candidates" and node.row.get("model_hash"):
        found[node.row["model_hash"]] = node.row.get("model_id") or "?"
    for parent in node.parents:
        found.update(_generators(parent))
    return found


def _model_label(model) -> str:
    digest = f" sha256 {escape(str(model.sha256)[:12])}" if model.sha256 else ""
    if not model.known:
        return f"[bold]{model.role}[/] {escape(model.model_id)}{digest}: [red]lineage unknown[/] (no record)"
    record = model.record
    details = [f"origin {escape(str(record.get('origin')))}"]
    family = (record.get("model") or {}).get("family")
    if family:
        details.append(f"family {escape(str(family))}")
    data = record.get("data") or {}
    if data.get("sha256"):
        details.append(f"training data {escape(data.get('stage', ''))} sha256 {escape(str(data['sha256'])[:12])}")
    if record.get("critic"):
        details.append(f"critic {escape(str(record['critic'].get('id')))}")
    if record.get("rounds"):
        details.append(f"{len(record['rounds'])} self-imitation round(s)")
    where = f"\n[dim]record: {escape(str(model.where))}[/]"
    return f"[bold]{model.role}[/] {escape(model.model_id)}{digest}: {', '.join(details)}{where}"


def _add_model(tree: Tree, model) -> None:
    branch = tree.add(_model_label(model))
    for parent in model.parents:
        _add_model(branch, parent)


def _print_models(console: Console, ws: Workspace, node: LineageNode) -> None:
    from intentkg.distill.lineage import generator_of, walk

    for digest, model_id in _generators(node).items():
        ref = generator_of(ws, digest)
        file = None
        if ref is not None and ref.file:
            file = Path(ref.file) if Path(ref.file).is_absolute() else ws.root / ref.file
        model = walk("generator", model_id, digest, file)
        tree = Tree("[bold]models behind it:[/]")
        _add_model(tree, model)
        console.print(tree)
        for warning in dict.fromkeys(model.warnings()):
            console.print(f"[yellow]lineage warning:[/] {escape(warning)}", highlight=False)


def _declare(path: Path, origin: Optional[str], model_id: Optional[str]) -> None:
    from intentkg.llm.model_lineage import declare

    if not origin:
        raise ConfigError("--declare needs --origin: where the model came from (e.g. hf:org/repo@revision)")
    written = declare(path, model_id or path.name, origin)
    Console().print(f"wrote {escape(str(written))}: {escape(str(path))} is an original model from "
                    f"{escape(origin)}", highlight=False)


def lineage(workspace: Optional[Path] = typer.Argument(None, help="Workspace folder."),
            row_id: Optional[str] = typer.Argument(None, help="Any row id: edge, candidate, behavior or product id."),
            table: Optional[str] = typer.Option(None, help="Look only in this table."),
            declare: Optional[Path] = typer.Option(
                None, "--declare", help="Record that this model file or folder is an original model (not distilled "
                                        "here), so `build --require-lineage` accepts its knowledge."),
            origin: Optional[str] = typer.Option(None, help="With --declare: where the model came from."),
            model_id: Optional[str] = typer.Option(None, "--id", help="With --declare: the model's name.")) -> None:
    """Print the chain from a row back to the input files and rows it came from, and the models behind it
    (a student back to its base and teacher)."""
    if declare is not None:
        _declare(declare, origin, model_id)
        return
    if workspace is None or row_id is None:
        raise ConfigError("give a workspace and a row id (intentkg lineage WS ROW_ID), or --declare MODEL")
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
    _print_models(console, ws, node)
