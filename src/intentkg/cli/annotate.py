"""``intentkg annotate ...``: sample candidates, manage annotators, serve the web app, import and
export labels, and report agreement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from intentkg.cli.options import FORCE, WORKSPACE

app = typer.Typer(help="Human annotation: sampling, the web app, agreement, import and export.",
                  no_args_is_help=True)
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def _store(workspace: Path):
    from intentkg.annotate.store import Store

    return Store.for_workspace(workspace)


@app.command("sample")
def sample(workspace: Path = WORKSPACE, force: bool = FORCE,
           n: int = typer.Option(500, "-n", help="Candidates to sample."),
           pilot: Optional[int] = typer.Option(None, help="First items form the pilot batch "
                                               "(default 10% of n, at most 2000; 0 in uncertainty rounds)."),
           audit_fraction: float = typer.Option(0.05, help="Share of items flagged for the blind audit."),
           strategy: str = typer.Option("stratified", help="stratified, or uncertainty (needs critic scores)."),
           seed: int = typer.Option(0, help="Sampling seed."),
           max_per_tail: int = typer.Option(3, help="At most this many items share one tail."),
           popularity_power: float = typer.Option(0.5, help="Weight exponent of product/query popularity."),
           frequency_power: float = typer.Option(0.5, help="Weight exponent of knowledge frequency."),
           keep_flagged: bool = typer.Option(False, help="Also sample candidates the filter rules flagged.")) -> None:
    """Pick candidates to annotate (stratified by category x relation x kind) and add them to the store."""
    from intentkg.annotate.sampling import SampleConfig
    from intentkg.annotate.stage import run_sample

    if pilot is None:
        pilot = 0 if strategy == "uncertainty" else min(max(n // 10, 1), 2000)
    config = SampleConfig(n=n, pilot=pilot, audit_fraction=audit_fraction, seed=seed, strategy=strategy,
                          popularity_power=popularity_power, frequency_power=frequency_power,
                          max_per_tail=max_per_tail, skip_flagged=not keep_flagged)
    manifest, added = run_sample(workspace, config, force=force)
    c = manifest.counts
    console.print(f"sampled {c.get('sampled', 0):,} of {c.get('eligible', 0):,} eligible candidates in "
                  f"{c.get('strata', 0)} strata (pilot {c.get('pilot', 0)}, audit {c.get('audit', 0)}); "
                  f"{added:,} new items in the store", highlight=False)


@app.command("import")
def import_(path: str = typer.Argument(..., help="File or folder to import, or 'demo' for the bundled labels."),
            workspace: Path = WORKSPACE,
            format: str = typer.Option("auto", "--format", help="auto, jsonl, parquet, argilla or label-studio."),
            users: Optional[Path] = typer.Option(None, help="JSON object mapping tool user ids to names.")) -> None:
    """Bring labels made elsewhere (JSONL/Parquet, Argilla, Label Studio) into the store."""
    from intentkg.annotate.formats import import_file
    from intentkg.annotate.formats.records import load_titles

    products = workspace / "ingest" / "products.parquet"
    titles = load_titles(products) if products.exists() else None
    if path == "demo":
        from intentkg.demo_data import demo_path

        source = demo_path("annotated_candidates.jsonl")
        titles = load_titles(demo_path("products.csv"))
    else:
        source = Path(path)
    result = import_file(_store(workspace), source, format, users, titles)
    console.print(f"{source}: {result.records:,} rows; {result.items_added:,} new items, {result.answers_added:,} "
                  f"new answers, {result.answers_known:,} already in the store", highlight=False)


@app.command("export")
def export(out: Path = typer.Argument(..., help="File (jsonl, parquet) or folder (argilla, label-studio)."),
           workspace: Path = WORKSPACE,
           format: str = typer.Option("jsonl", "--format", help="jsonl, parquet, argilla or label-studio.")) -> None:
    """Write the store's items and answers for another tool (or a backup)."""
    from intentkg.annotate.formats import export_store

    console.print(f"wrote {export_store(_store(workspace), out, format)}", highlight=False)


@app.command("agreement")
def agreement(workspace: Path = WORKSPACE, force: bool = FORCE,
              json_out: bool = typer.Option(False, "--json", help="Print the whole report as JSON.")) -> None:
    """Snapshot the store (annotations + final labels tables) and report agreement."""
    from intentkg.annotate.stage import run_export

    manifest = run_export(workspace, force=force)
    report = json.loads((workspace / "annotate" / "agreement.json").read_text(encoding="utf-8"))
    if json_out:
        typer.echo(json.dumps(report, indent=2))
        return
    table = Table(title=f"agreement ({report['items_with_two']:,} items with two answers)")
    for col in ("question", "pairs", "agreement", "Cohen's kappa", "yes rate"):
        table.add_column(col)
    for q, s in report["questions"].items():
        table.add_row(q, str(s["n"]), _pct(s["percent_agreement"]), _num(s["kappa"]), _pct(s["yes_rate"]))
    console.print(table)
    audit = report["audit"]
    console.print(f"final labels: {report['final_labels']}; disagreements open: {report['resolution']['open']}; "
                  f"audit: {_pct(audit['overall'])} on {audit['items']} items", highlight=False)
    console.print(f"tables and agreement.json in {workspace / 'annotate'} ({manifest.finished_at})", highlight=False)


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _num(x) -> str:
    return "-" if x is None else f"{x:.3f}"


@app.command("add-user")
def add_user(name: str = typer.Argument(..., help="Person's name (letters, digits, _ . @ -)."),
             workspace: Path = WORKSPACE,
             role: str = typer.Option("annotator", help="annotator, resolver or admin."),
             replace: bool = typer.Option(False, help="Issue a new token for an existing user.")) -> None:
    """Create a login token for one person (shown once; only its hash is stored)."""
    from intentkg.annotate.tokens import create_user

    token = create_user(_store(workspace), name, role, replace=replace)
    console.print(f"user {name} ({role}); token (shown once, give it to {name} privately):", highlight=False)
    typer.echo(token)


@app.command("users")
def users(workspace: Path = WORKSPACE) -> None:
    """List users and roles."""
    from intentkg.annotate.tokens import list_users

    table = Table("name", "role", "created", "revoked")
    for u in list_users(_store(workspace)):
        table.add_row(u["name"], u["role"], u["created_at"], u["revoked_at"] or "")
    console.print(table)


@app.command("revoke")
def revoke(name: str, workspace: Path = WORKSPACE) -> None:
    """Revoke a person's token (their answers stay)."""
    from intentkg.annotate.tokens import revoke_user

    revoke_user(_store(workspace), name)
    console.print(f"revoked {name}")


@app.command("serve")
def serve(workspace: Path = WORKSPACE,
          host: str = typer.Option("127.0.0.1", help="Interface to listen on (use a TLS proxy beyond localhost)."),
          port: int = typer.Option(8000, help="Port."),
          per_item: int = typer.Option(2, help="Annotators per item."),
          ssl_certfile: Optional[Path] = typer.Option(None, help="TLS certificate (PEM): serve HTTPS."),
          ssl_keyfile: Optional[Path] = typer.Option(None, help="TLS private key (PEM).")) -> None:
    """Run the annotation web app."""
    import uvicorn

    from intentkg.annotate.app import create_app, plain_http_warning

    store = _store(workspace)
    tls = ssl_certfile is not None
    scheme = "https" if tls else "http"
    console.print(f"annotation app for {store.path} ({store.count_items():,} items) on {scheme}://{host}:{port}/ "
                  f"- create logins with `intentkg annotate add-user NAME -w {workspace}`", highlight=False)
    warning = plain_http_warning(host, tls)
    if warning:
        err_console.print(f"[yellow]{warning}[/]", highlight=False)
    uvicorn.run(create_app(store, per_item=per_item), host=host, port=port, log_level="warning",
                ssl_certfile=str(ssl_certfile) if tls else None, ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None)
