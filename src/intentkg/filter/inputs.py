"""What the filter stage reads: its input tables, the relations generate used, and its DuckDB connection."""

from __future__ import annotations

from pathlib import Path

import duckdb

from intentkg.duck import quote_path
from intentkg.errors import IntentkgError
from intentkg.filter.config import FilterConfig
from intentkg.schemas import BEHAVIORS, PRODUCTS
from intentkg.workspace import Workspace

def stage_inputs(ws: Workspace) -> tuple[Path, Path | None, Path | None, list]:
    candidates = ws.table_path("generate", "candidates")
    if not candidates.exists():
        raise IntentkgError(f"{candidates} is missing: run `intentkg generate -w {ws.root}` first")
    behaviors = ws.table_path("ingest", "behaviors")
    products = ws.table_path("ingest", "products")
    refs: list = []
    for stage, path in (("generate", candidates), ("ingest", behaviors)):
        if ws.manifest(stage) is not None:
            refs.append(stage)
        elif path.exists():
            refs.append(path)
    return candidates, behaviors if behaviors.exists() else None, products if products.exists() else None, refs



def with_generated_relations(ws: Workspace, config: FilterConfig) -> FilterConfig:
    """Accept the relations the generate stage was configured with (its extra_relations, relations_file)."""
    generated = ws.stage_config("generate")  # paths in it anchored where the workspace is now
    if not generated or config.rules.relations is None:
        return config
    names = list((generated.get("extra_relations") or {}).keys())
    relations_file = generated.get("relations_file")
    if relations_file:
        try:
            import yaml

            names += list((yaml.safe_load(Path(relations_file).read_text(encoding="utf-8")) or {})
                          .get("relations", {}).keys())
        except (OSError, ValueError, AttributeError):
            pass
    extra = [n for n in dict.fromkeys(names) if n not in config.rules.relations
             and n not in config.rules.extra_relations]
    if not extra:
        return config
    rules = config.rules.model_copy(update={"extra_relations": [*config.rules.extra_relations, *extra]})
    return config.model_copy(update={"rules": rules})



def connect(config: FilterConfig, scratch: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(scratch / "filter.duckdb"))
    con.execute(f"SET memory_limit = '{config.duckdb_memory_limit}'")
    con.execute(f"SET temp_directory = {quote_path(scratch / 'duckdb_tmp')}")
    con.execute("SET preserve_insertion_order = true")
    con.register("empty_behaviors", BEHAVIORS.empty_table())
    con.register("empty_products", PRODUCTS.empty_table())
    return con
