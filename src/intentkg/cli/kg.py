"""``intentkg build`` and ``intentkg kg ...``: build, query, export and explore the knowledge graph."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from intentkg.cli.options import FORCE, LEAVE_OUT_QUERY, WORKSPACE
from intentkg import operating_point
from intentkg.cli.point_options import PointOptions, with_point_options
from intentkg.errors import ConfigError
from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig
from intentkg.kg.explorer import write_explorer
from intentkg.kg.export import FORMATS, export
from intentkg.kg.query import KnowledgeGraph
from intentkg.workspace import Workspace

app = typer.Typer(help="Query, export and explore a built knowledge graph.", no_args_is_help=True)
console = Console()


@with_point_options
def build(workspace: Path = WORKSPACE, force: bool = FORCE,
          hierarchy: bool = typer.Option(True, help="Build the broad -> fine intention hierarchy."),
          require_lineage: bool = typer.Option(
              False, "--require-lineage", help="Refuse knowledge from a generator whose lineage is unknown "
                                               "(docs/distill.md, 'Lineage')."),
          memory_limit: Optional[str] = typer.Option(
              None, "--memory-limit", help="DuckDB memory cap: 4GB, 512MB or a share of RAM such as 25% "
                                           "(default 25% of RAM); past it the build spills to --spill-dir."),
          spill_dir: Optional[Path] = typer.Option(
              None, "--spill-dir", help="Where the build spills past its memory cap (default <ws>/kg/.spill, "
                                        "removed afterwards)."),
          threads: Optional[int] = typer.Option(None, "--threads", min=1, help="DuckDB threads (default every core)."),
          options: PointOptions = PointOptions()) -> None:
    """Build the KG from the candidates `intentkg view` keeps at the workspace's operating point.

    Options change the operating point and save it as the workspace's (as `intentkg view --save`
    does), so the funnel, the KG, on-demand knowledge and `serve refresh` all use the same one.
    """
    ws = Workspace(workspace)
    point = options.on(operating_point.saved(ws))
    if point != operating_point.saved(ws):
        operating_point.save(ws, point)
        console.print(f"saved as the default operating point of {workspace}", highlight=False)
    config = BuildConfig(operating_point=point, hierarchy=hierarchy, memory_limit=memory_limit, spill_dir=spill_dir,
                         threads=threads)
    explorer = workspace / "kg" / "explorer.html"
    had_explorer = explorer.exists()
    manifest = run_build(workspace, config, force=force, require_lineage=require_lineage)
    if had_explorer:  # a page made by `kg explore` shows the KG just built, never the one before
        write_explorer(workspace)
    c = manifest.counts
    table = Table(title=f"build -> {workspace / 'kg'}", show_header=False)
    table.add_row("candidates in / kept", f"{c.get('rows_in', 0):,} / {c.get('candidates_kept', 0):,}")
    table.add_row("nodes", json.dumps(c.get("nodes_by_kind", {})))
    table.add_row("edges", f"{c.get('edges', 0):,}")
    table.add_row("intentions by relation", json.dumps(c.get("intentions_by_relation", {})))
    table.add_row("operating point", json.dumps(manifest.extra.get("operating_point", {}).get("applied", {})))
    console.print(table)


def _print(rows: list[dict], title: str) -> None:
    if not rows:
        console.print(f"[yellow]{title}: nothing found[/]")
        return
    table = Table(title=title)
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*["" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v)) for v in row.values()])
    console.print(table)


@app.command("query")
def query(workspace: Path = typer.Argument(..., help="Workspace folder."),
          search: Optional[str] = typer.Option(None, "--query", "-q", help="Intentions for a search query."),
          product: Optional[str] = typer.Option(None, "--product", "-p",
                                                help="Intentions for a product id (with --query: the pair's knowledge)."),
          intention: Optional[str] = typer.Option(None, "--intention", "-i", help="Products sharing an intention."),
          two_hop: Optional[str] = typer.Option(None, "--two-hop", help="query -> intention -> products."),
          category: Optional[str] = typer.Option(None, "--top", help="Top intentions of a category ('' = all)."),
          limit: int = typer.Option(20, help="Rows to show."),
          nearest: bool = typer.Option(True, "--nearest/--no-nearest",
                                       help="With --query/--product: borrow from the embedding-nearest KG heads "
                                            "when there is no exact fact (as evaluation and serving do)."),
          leave_out_query: bool = LEAVE_OUT_QUERY,
          as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Ask the KG one question (pick one option; --query with --product asks for a pair). --query and
    --product give what the evaluation and serving give: the one knowledge lookup (exact facts, else
    the embedding-nearest KG heads'); a pair also prints the knowledge text the evaluation injects."""
    if search is not None and product is not None and intention is None and two_hop is None and category is None:
        rows, text = _pair(workspace, limit, nearest, leave_out_query, search, product)
        if as_json:
            typer.echo(json.dumps({"text": text, "facts": rows}, indent=2, default=str, ensure_ascii=False))
        else:
            _print(rows, f"knowledge for pair: {search} / {product}")
            console.print(f"text: {text}", highlight=False, markup=False)
        return
    kg = KnowledgeGraph(workspace)
    asked = [(search, "intentions for query",
              lambda q, limit: _looked_up(workspace, limit, nearest, leave_out_query, query=q)),
             (product, "intentions for product",
              lambda p, limit: _looked_up(workspace, limit, nearest, leave_out_query, product=p)),
             (intention, "products sharing intention", kg.products_sharing_intention),
             (two_hop, "query -> intention -> products", kg.two_hop)]
    chosen = [(value, title, fn) for value, title, fn in asked if value is not None]
    if category is not None:
        chosen.append((category, "top intentions", lambda c, limit: kg.top_intentions(c or None, limit)))
    if len(chosen) != 1:
        raise ConfigError("give exactly one of --query, --product, --intention, --two-hop, --top "
                          "(or --query with --product for a pair)")
    value, title, fn = chosen[0]
    rows = fn(value, limit=limit)
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str, ensure_ascii=False))
    else:
        _print(rows, f"{title}: {value}")


def _lookup(workspace: Path, limit: int, nearest: bool, leave_out_query: bool):
    from intentkg.knowledge.lookup import KnowledgeLookup, LookupConfig

    return KnowledgeLookup(workspace, LookupConfig(per_head=limit, nearest=nearest, leave_out_query=leave_out_query),
                           embed=KnowledgeLookup.default_embed(workspace) if nearest else None)


def _looked_up(workspace: Path, limit: int, nearest: bool, leave_out_query: bool, query: str | None = None,
               product: str | None = None) -> list[dict]:
    from dataclasses import asdict

    lookup = _lookup(workspace, limit, nearest, leave_out_query)
    if query is not None:
        facts = lookup.for_queries([query], leave_out=leave_out_query)[0]
    else:
        facts = lookup.for_products([product], [lookup.titles([product]).get(product, "")])[0]
    return [asdict(f) for f in facts]


def _pair(workspace: Path, limit: int, nearest: bool, leave_out_query: bool, query: str, product: str
          ) -> tuple[list[dict], str]:
    """The pair's facts (side, then the fact) and its knowledge text (the evaluation's template)."""
    from dataclasses import asdict

    from intentkg.knowledge.text import KnowledgeTemplate

    lookup = _lookup(workspace, limit, nearest, leave_out_query)
    (pair,) = lookup.for_pairs([query], [product], [lookup.titles([product]).get(product, "")])
    rows = [{"side": side, **asdict(f)} for side, facts in (("query", pair.query), ("product", pair.product))
            for f in facts]
    return rows, KnowledgeTemplate().pair_text(pair)


@app.command("export")
def export_kg(workspace: Path = typer.Argument(..., help="Workspace folder."),
              fmt: str = typer.Option(..., "--format", "-f", help=f"One of: {', '.join(FORMATS)}."),
              out: Optional[Path] = typer.Option(None, help="Output folder (default <ws>/kg/export/<format>).")) -> None:
    """Export the KG as JSONL, CSV, RDF/Turtle, GraphML or Neo4j bulk-import CSV."""
    folder = out or workspace / "kg" / "export" / fmt
    for path in export(workspace, fmt, folder):
        console.print(f"wrote {path}")


@app.command("explore")
def explore(workspace: Path = typer.Argument(..., help="Workspace folder."),
            out: Optional[Path] = typer.Option(None, help="HTML file (default <ws>/kg/explorer.html).")) -> None:
    """Write a self-contained explorer page (opens offline): type a query or product, see its intentions."""
    console.print(f"wrote {write_explorer(workspace, out)}")
