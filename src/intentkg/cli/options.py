"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path

import typer

WORKSPACE = typer.Option(Path("workspace"), "--workspace", "-w", help="Workspace folder (created if missing).")
FORCE = typer.Option(False, "--force", help="Re-run even if config and inputs are unchanged.")
ENGINE = typer.Option(None, "--engine", help="local (this process, the default) or ray (a Ray cluster: "
                                             "RAY_ADDRESS, else a new local one; docs/ray.md).")
LEAVE_OUT_QUERY = typer.Option(
    False, "--leave-out-query",
    help="The evaluation's leave-own-out: knowledge as if the query had never been logged (its own node skipped, "
         "its behaviours subtracted from the product's edges); `eval esci` sets it with --unseen split/own.")


def on_demand_model(flag: str):
    """The on-demand generator's model, instead of the configured one (``serve refresh --model``,
    ``eval esci --on-demand-model``): the same values as ``generate --model``."""
    return typer.Option(None, flag, help="Generator of on-demand knowledge instead of the configured one, as "
                                         "`generate --model`: e.g. the distilled student <ws>/distill/student.gguf "
                                         "(a .gguf runs through llama.cpp); recorded with its lineage.")
