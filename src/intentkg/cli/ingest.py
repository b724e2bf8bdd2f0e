"""``intentkg ingest``: read behaviour logs and catalogues into a workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from intentkg.cli.options import FORCE, WORKSPACE
from intentkg.ingest.demo import demo_config
from intentkg.errors import ConfigError
from intentkg.ingest import IngestConfig, SamplingConfig, load_config, run_ingest
from intentkg.ingest.config import (TABLE_COLUMNS, AmazonReviewsSource, EsciSource, InstacartSource, TableSource,
                                    role_columns)

app = typer.Typer(help="Read behaviour logs and catalogues into products and behaviors tables.",
                  no_args_is_help=True)
console = Console()

SEED = typer.Option(0, help="Seed for sampling tie-breaks.")
MIN_SUPPORT = typer.Option(1, help="Orders / purchases a pair needs.")
QUOTA = typer.Option(None, help="Max behaviours per (kind, category).")
MAX_BEHAVIORS = typer.Option(None, help="Max behaviours in all.")
HUB = typer.Option(None, help="Drop co_buy pairs of products whose partners span more categories than this.")
NO_PII = typer.Option(False, "--keep-pii", help="Do not scrub e-mails, phones, cards, addresses from queries.")


def _sampling(seed: int, min_support: int, quota: Optional[int], max_behaviors: Optional[int],
              hub: Optional[int], **extra) -> SamplingConfig:
    return SamplingConfig(seed=seed, min_support=min_support, per_category_quota=quota,
                          max_behaviors=max_behaviors, max_hub_categories=hub, **extra)


def _run(config: IngestConfig, workspace: Path, force: bool) -> None:
    manifest = run_ingest(config, workspace, force=force)
    c = manifest.counts
    table = Table(title=f"ingest -> {workspace / 'ingest'}", show_header=False)
    table.add_row("products", f"{c.get('products', 0):,}")
    for kind, n in c.get("behaviors_by_kind", {}).items():
        table.add_row(f"behaviors: {kind}", f"{n:,}")
    table.add_row("sampled out", f"{c.get('sampled_out', 0):,} {c.get('sampled_out_by_reason', {})}")
    table.add_row("quarantined rows", f"{c.get('rejected', 0):,} {c.get('quarantine', {}).get('by_reason', {})}")
    pii = c.get("pii", {})
    table.add_row("queries with PII scrubbed", f"{pii.get('queries_changed', 0):,} {pii.get('by_kind', {})}")
    files = c.get("quarantine", {}).get("files", {})
    if files:
        table.add_row("lines read", f"{sum(f['lines'] for f in files.values()):,} in {len(files)} files "
                                    f"(every one kept, quarantined, blank or a header)")
    table.add_row("finished at", f"{manifest.finished_at} ({manifest.seconds:.1f} s)")
    console.print(table)
    for warning in c.get("quarantine", {}).get("warnings", []):
        console.print(f"[yellow]warning:[/] {warning}")


@app.command("run")
def run(config: Path = typer.Argument(..., help="YAML ingest config (see docs/ingest.md)."),
        workspace: Path = WORKSPACE, force: bool = FORCE) -> None:
    """Ingest every source listed in a YAML config."""
    _run(load_config(config), workspace, force)


@app.command("esci")
def esci(path: Path = typer.Argument(..., help="Folder with shopping_queries_dataset_{examples,products}.parquet."),
         labels: str = typer.Option("E", help="ESCI labels that count as a purchase, e.g. E or E,S."),
         locale: Optional[list[str]] = typer.Option(None, help="Keep only these product_locale values."),
         split: str = typer.Option("train", help="Splits to read (comma list); 'all' for every split."),
         all_products: bool = typer.Option(False, "--all-products", help="Keep every catalogue product (for "
                                           "`intentkg catalogue`), not only those in the kept examples."),
         workspace: Path = WORKSPACE, force: bool = FORCE, keep_pii: bool = NO_PII,
         seed: int = SEED, min_support: int = MIN_SUPPORT, quota: Optional[int] = QUOTA,
         max_behaviors: Optional[int] = MAX_BEHAVIORS) -> None:
    """Ingest the Shopping Queries Dataset (ESCI) as search_buy behaviours."""
    source = EsciSource(path=path, labels=[x.strip() for x in labels.split(",") if x.strip()],
                        locales=locale or None, splits=None if split == "all" else split.split(","),
                        all_products=all_products)
    _run(IngestConfig(sources=[source], scrub_pii=not keep_pii,
                      sampling=_sampling(seed, min_support, quota, max_behaviors, None)), workspace, force)


@app.command("instacart")
def instacart(path: Path = typer.Argument(..., help="Folder with the Instacart CSV files."),
              workspace: Path = WORKSPACE, force: bool = FORCE, seed: int = SEED,
              min_support: int = MIN_SUPPORT, quota: Optional[int] = QUOTA,
              max_behaviors: Optional[int] = MAX_BEHAVIORS, max_hub_categories: Optional[int] = HUB,
              max_basket_size: int = typer.Option(60, help="Skip orders with more lines than this.")) -> None:
    """Ingest order logs in the Instacart layout as co_buy pairs."""
    source = InstacartSource(path=path, max_basket_size=max_basket_size)
    _run(IngestConfig(sources=[source],
                      sampling=_sampling(seed, min_support, quota, max_behaviors, max_hub_categories)),
         workspace, force)


@app.command("amazon-reviews")
def amazon_reviews(path: Path = typer.Argument(..., help="Amazon Reviews 2023 meta_<Category>.jsonl."),
                   workspace: Path = WORKSPACE, force: bool = FORCE, seed: int = SEED,
                   min_support: int = MIN_SUPPORT, quota: Optional[int] = QUOTA,
                   max_behaviors: Optional[int] = MAX_BEHAVIORS,
                   max_hub_categories: Optional[int] = HUB) -> None:
    """Ingest Amazon Reviews 2023 item metadata (products and bought_together pairs)."""
    _run(IngestConfig(sources=[AmazonReviewsSource(path=path)],
                      sampling=_sampling(seed, min_support, quota, max_behaviors, max_hub_categories)),
         workspace, force)


@app.command("table")
def table(path: Path = typer.Argument(..., help="CSV, TSV, Parquet or JSONL file."),
          role: str = typer.Option(..., help="products, search_log or co_buy."),
          map_: Optional[list[str]] = typer.Option(None, "--map", help="ours=theirs column mapping, repeatable."),
          products: Optional[Path] = typer.Option(None, help="Products file (role products) for the ids."),
          workspace: Path = WORKSPACE, force: bool = FORCE, keep_pii: bool = NO_PII, seed: int = SEED,
          min_support: int = MIN_SUPPORT, quota: Optional[int] = QUOTA,
          max_behaviors: Optional[int] = MAX_BEHAVIORS) -> None:
    """Ingest one generic table; add --products for the catalogue its ids point at."""
    columns = {}
    for item in map_ or []:
        if "=" not in item:
            raise ConfigError(f"--map {item!r}: write ours=theirs, e.g. --map query=search_term")
        ours, theirs = item.split("=", 1)
        columns[ours.strip()] = theirs.strip()
    if role not in TABLE_COLUMNS:
        raise ConfigError(f"--role {role!r}: use products, search_log or co_buy")
    roles = [role] + (["products"] if products is not None else [])
    known = {name for r in roles for name in role_columns(r)}
    unknown = sorted(set(columns) - known)
    if unknown:
        raise ConfigError(f"--map {', '.join(unknown)}: not a column of a {' or '.join(dict.fromkeys(roles))} "
                          f"table; ours are {', '.join(sorted(known))}")

    def mapped(r: str) -> dict[str, str]:  # one --map applies to every file it names a column of
        return {ours: theirs for ours, theirs in columns.items() if ours in role_columns(r)}

    sources = [TableSource(role=role, path=path, columns=mapped(role))]
    if products is not None:
        sources.insert(0, TableSource(role="products", path=products, columns=mapped("products")))
    _run(IngestConfig(sources=sources, scrub_pii=not keep_pii,
                      sampling=_sampling(seed, min_support, quota, max_behaviors, None)), workspace, force)


@app.command("demo")
def demo(workspace: Path = WORKSPACE, force: bool = FORCE) -> None:
    """Ingest the bundled demo data (products, co-purchases, search log)."""
    _run(demo_config(), workspace, force)
