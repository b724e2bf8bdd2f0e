"""Entry point: ``intentkg``. Errors meant for users print as one red line, never a traceback."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from intentkg import __version__
from intentkg.cli import generate, ingest, kg, lineage, serve, status
from intentkg.cli import filter as filter_cli
from intentkg.cli import report as report_cli
from intentkg.cli import annotate as annotate_cli
from intentkg.cli import judge as judge_cli
from intentkg.cli import train_critic as train_critic_cli
from intentkg.cli import eval as eval_cli
from intentkg.cli import experiment as experiment_cli
from intentkg.cli import catalogue as catalogue_cli
from intentkg.cli import distill as distill_cli
from intentkg.cli import refine as refine_cli
from intentkg.cli import distill_eval  # noqa: F401  (registers `distill eval` on the distill group)
from intentkg.cli.extras import missing_extra
from intentkg.errors import IntentkgError

cli = typer.Typer(
    name="intentkg",
    help="Turn shopping behaviour into a commonsense knowledge graph of purchase intentions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cli.add_typer(ingest.app, name="ingest")
cli.command("generate")(generate.generate)
cli.command("lineage")(lineage.lineage)
cli.command("status")(status.status)
cli.command("build")(kg.build)
cli.add_typer(kg.app, name="kg")
cli.add_typer(serve.app, name="serve")
cli.command("filter")(filter_cli.filter_)
cli.command("view")(filter_cli.view)
cli.command("report")(report_cli.report)
cli.add_typer(annotate_cli.app, name="annotate")
cli.command("train-critic")(train_critic_cli.train_critic)
cli.command("judge")(judge_cli.judge)
cli.add_typer(eval_cli.app, name="eval")
cli.add_typer(experiment_cli.app, name="experiment")
cli.command("catalogue")(catalogue_cli.catalogue)
cli.add_typer(distill_cli.app, name="distill")
cli.add_typer(refine_cli.app, name="refine")


@cli.callback(invoke_without_command=True)
def _root(version: bool = typer.Option(False, "--version", help="Print the version and exit.")) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit()


def _error(message: str) -> None:
    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    sys.exit(2)


def app() -> None:
    """Run the CLI; IntentkgError, and a missing optional dependency, become one line and exit code 2."""
    try:
        code = cli(standalone_mode=False)  # click returns (not raises) a typer.Exit's code in this mode
        if isinstance(code, int) and code:
            sys.exit(code)
    except IntentkgError as exc:
        _error(str(exc))
    except ModuleNotFoundError as exc:  # an optional dependency: name the extra that brings it
        message = missing_extra(exc, next((a for a in sys.argv[1:] if not a.startswith("-")), None))
        if message is None:
            raise
        _error(message)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    app()
