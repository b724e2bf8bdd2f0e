"""``intentkg serve``: precompute the cache, run the HTTP API, refresh queued misses."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from intentkg.cli.options import ENGINE, LEAVE_OUT_QUERY, WORKSPACE, on_demand_model

app = typer.Typer(help="Serve KG knowledge over HTTP from a two-tier cache (no LLM on the request path).",
                  no_args_is_help=True)
console = Console()
REDIS = typer.Option(None, "--redis", help="redis://host:port/db to use Redis instead of the embedded SQLite store.")
PREFIX = typer.Option("intentkg", help="Key prefix in Redis.")
NEAREST = typer.Option(True, "--nearest/--no-nearest",
                       help="Borrow from the embedding-nearest KG heads when a query/product has no facts "
                            "(as `intentkg eval esci` does by default).")


@app.command("precompute")
def precompute_cmd(workspace: Path = WORKSPACE, redis: Optional[str] = REDIS, prefix: str = PREFIX,
                   top_queries: int = typer.Option(100_000, help="Head queries to precompute, by purchases."),
                   nearest: bool = NEAREST, leave_out_query: bool = LEAVE_OUT_QUERY) -> None:
    """Tier 1: knowledge for the head queries and every catalogue product, as a new snapshot (the
    evaluation's lookup: exact facts, else the embedding-nearest KG heads'). --leave-out-query adds
    the entries `/v1/knowledge/pair?leave_out_query=true` answers from."""
    from intentkg.knowledge.lookup import LookupConfig
    from intentkg.serve.refresh import precompute
    from intentkg.serve.runtime import open_store
    from intentkg.serve.snapshot_run import snapshot_run
    from intentkg.serve.tier1 import tier1_items

    _, writer, _ = open_store(workspace, redis, prefix)
    with snapshot_run(workspace, "precompute", {"top_queries": top_queries, "nearest": nearest,
                                                "leave_out_query": leave_out_query,
                                                "store": "redis" if redis else "sqlite"}) as run:
        version, n = precompute(writer, tier1_items(workspace, top_queries,
                                                    LookupConfig(nearest=nearest, leave_out_query=leave_out_query)))
        run.extra["snapshot"] = {"version": version, "keys": n}
    console.print(f"snapshot {version}: {n:,} keys ({'redis ' + redis if redis else workspace / 'serve'})")


@app.command("run")
def run_cmd(workspace: Path = WORKSPACE, redis: Optional[str] = REDIS, prefix: str = PREFIX,
            host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
            port: int = typer.Option(8000, help="Port."),
            workers: int = typer.Option(1, min=1, help="Worker processes (each its own app; metrics summed)."),
            server: str = typer.Option("granian", help="HTTP server: granian (Rust, the fast one) or uvicorn."),
            experiment_id: Optional[str] = typer.Option(
                None, "--experiment", help="Run an A/B test of knowledge on/off under this experiment id "
                                           "(units named by ?unit_id= or X-Intentkg-Unit; docs/experiment.md)."),
            knowledge_share: float = typer.Option(
                0.5, min=0.0, max=1.0, help="With --experiment: the share of units that get knowledge."),
            per_client_per_minute: int = typer.Option(60, help="Misses one client may queue a minute (per worker)."),
            response_cache_mb: float = typer.Option(
                64.0, min=0.0, help="Response bytes of recent hits kept per worker (0: off); see docs/serve.md.")
            ) -> None:
    """Run the HTTP API (a raw ASGI fast path in front of FastAPI, on Granian or uvicorn); OpenAPI docs
    at /docs (offline)."""
    from intentkg.serve import server as api_server
    from intentkg.serve.runtime import open_store

    if server not in api_server.SERVERS:
        raise typer.BadParameter(f"use one of {', '.join(api_server.SERVERS)}", param_hint="--server")
    if server == "uvicorn" and workers > 1:  # seen hanging before it bound the port: not supported yet
        raise typer.BadParameter("several workers need --server granian (the default)", param_hint="--workers")
    # the workers import the app by name after the fork: import it here first, so a missing
    # dependency is the CLI's one line naming the extra, not a traceback from every worker
    import intentkg.serve.app  # noqa: F401
    store, _, _ = open_store(workspace, redis, prefix)
    empty = store.version() is None
    store.close()  # workers open their own: a connection must not cross a fork
    if empty:
        console.print("[yellow]the cache is empty: run `intentkg serve precompute` first; "
                      "every request will be a queued miss[/]")
    if experiment_id:
        from intentkg.serve.arms import Arms
        from intentkg.serve.exposure_log import exposure_folder

        try:
            Arms(experiment_id, knowledge_share)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--experiment") from exc
        console.print(f"experiment {experiment_id}: {knowledge_share:.0%} of units get knowledge; exposures -> "
                      f"{exposure_folder(workspace)}")
    settings = api_server.ServeSettings(str(Path(workspace).resolve()), redis, prefix, experiment_id, knowledge_share,
                                        per_client_per_minute, response_cache_mb=response_cache_mb)
    api_server.run(settings, host, port, workers, server)


@app.command("refresh")
def refresh_cmd(workspace: Path = WORKSPACE, redis: Optional[str] = REDIS, prefix: str = PREFIX,
                limit: Optional[int] = typer.Option(None, help="Answer at most this many queued misses."),
                min_clients: int = typer.Option(1, help="Answer only misses asked for by this many distinct "
                                                        "clients (the rest wait in the queue)."),
                nearest: bool = NEAREST,
                on_demand: bool = typer.Option(True, "--on-demand/--no-on-demand",
                                               help="Generate knowledge for queries without an exact KG hit."),
                config: Optional[Path] = typer.Option(
                    None, help="Generation/filter config for on-demand knowledge (see docs/serve.md)."),
                model: Optional[str] = on_demand_model("--model"),
                engine: Optional[str] = ENGINE) -> None:
    """Tier 2 (daily, from cron): generate and filter knowledge for queued misses, swap in a new snapshot."""
    from dataclasses import asdict

    from intentkg.serve.fill import make_fill
    from intentkg.serve.refresh import refresh
    from intentkg.serve.runtime import open_store
    from intentkg.serve.snapshot_run import on_demand_inputs, snapshot_run

    _, writer, queue = open_store(workspace, redis, prefix)
    from intentkg.knowledge.lookup import LookupConfig

    from intentkg.engine.settings import EngineSettings, with_engine_name

    settings = with_engine_name(EngineSettings(), engine) if engine else None
    generated: dict = {}
    fill = make_fill(workspace, config, LookupConfig(nearest=nearest), on_demand, settings, model, generated)
    with snapshot_run(workspace, "refresh", {"limit": limit, "min_clients": min_clients, "nearest": nearest,
                                             "on_demand": on_demand, "model": model,
                                             "store": "redis" if redis else "sqlite"},
                      on_demand_inputs(workspace, config, model)) as run:
        result = refresh(writer, queue, fill, limit, min_clients)
        run.extra["snapshot"] = asdict(result)
        if generated:  # which generator wrote the tier-2 knowledge, with its lineage (a student's names its teacher)
            run.extra["on_demand"] = generated
    if result.junk or result.too_few_clients:
        console.print(f"dropped {result.junk:,} junk keys from the queue; {result.too_few_clients:,} keys wait for "
                      f"more clients")
    if result.version is None:
        console.print("nothing queued")
        return
    console.print(f"snapshot {result.version}: {result.queued:,} queued misses, {result.filled:,} answered, "
                  f"{result.empty:,} with no surviving knowledge (cached as empty), {result.carried:,} carried over")
