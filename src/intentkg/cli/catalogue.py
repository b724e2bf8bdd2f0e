"""``intentkg catalogue``: product-side knowledge for every catalogue product, from the product alone."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from intentkg.cli.options import FORCE, WORKSPACE
from intentkg.progress import console


def catalogue(
    workspace: Path = WORKSPACE,
    types: int = typer.Option(600, help="At most this many product types (title clusters): one prompt each per "
                                        "relation; 0: one per product."),
    relation: list[str] = typer.Option(["used_for_function", "used_for_audience"], "--relation",
                                       help="Relation asked about each type (repeatable)."),
    description_chars: int = typer.Option(0, help="Description characters added to the prompt text."),
    min_agreement: int = typer.Option(1, min=1, help="Keep a type's tail only when this many of its samples agree "
                                                     "(give several samples a prompt with the config's sampling.n)."),
    config: Optional[Path] = typer.Option(None, "--config", "-c",
                                          help="YAML with generate:/filter: sections (default: the workspace's own)."),
    force: bool = FORCE,
) -> None:
    """Generate + filter knowledge for each product type of ws/ingest/products (no behaviour, no label)."""
    from intentkg.knowledge.catalogue import CatalogueConfig, run_catalogue

    cfg = CatalogueConfig(types=types or None, relations=list(dict.fromkeys(relation)),
                          description_chars=description_chars, min_agreement=min_agreement,
                          on_demand_config=str(config) if config else None)
    from intentkg.workspace import Workspace

    ws = Workspace(workspace)
    n_products = ws.read("ingest", "products").num_rows
    prompts = min(n_products, cfg.types or n_products) * len(cfg.relations)
    console.print(f"catalogue: {n_products} products in at most {min(n_products, cfg.types or n_products)} types x "
                  f"{len(cfg.relations)} relations = at most {prompts} prompts (the generate step says how many "
                  f"are not cached yet and how long they take)", highlight=False)
    counts = run_catalogue(ws, cfg, force=force)
    console.print(f"catalogue: {counts.get('facts', 0)} facts for {counts.get('products_with_facts', 0)} of "
                  f"{counts.get('products', 0)} products ({counts.get('types_with_facts', 0)} of "
                  f"{counts.get('types', 0)} types kept knowledge) -> {ws.stage_dir('catalogue')}", highlight=False)
