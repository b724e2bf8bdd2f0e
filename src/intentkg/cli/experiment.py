"""``intentkg experiment``: read out an A/B test, prune metrics, compute power (docs/experiment.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

from intentkg import atomic_file

app = typer.Typer(help="Read out the online A/B test of knowledge injection: effects with intervals, SRM check, "
                       "multiple-testing corrections, metric pruning and power.", no_args_is_help=True)
console = Console()

TABLE = typer.Argument(..., help="Parquet or CSV: one row per unit (unit_id, variant, metrics, <metric>__pre).")
CONFIG = typer.Option(None, "--config", "-c", help="Metrics YAML: ratios, decision/guardrails/exploratory, alpha, "
                                                   "correction, expected_split (docs/experiment.md).")
JSON = typer.Option(False, "--json", help="Print a machine-readable result instead of tables.")
WORKSPACE = typer.Option(None, "--workspace", "-w", help="Also record the result as a workspace stage (for the report).")
SRM_FAILED = 3  # exit status when the sample-ratio-mismatch check fails


def _require_extra() -> None:
    """statsmodels, scipy and scikit-learn come with the ``experiment`` extra, not with a core install."""
    from intentkg.errors import ConfigError

    for module in ("statsmodels", "scipy", "sklearn"):
        try:
            __import__(module)
        except ImportError as exc:
            raise ConfigError(f"`intentkg experiment` needs {module}: pip install 'intentkg[experiment]'") from exc


def _config(path: Optional[Path], correction: Optional[str], alpha: Optional[float]):
    from intentkg.errors import ConfigError
    from intentkg.experiment.config import load_metrics_config

    config = load_metrics_config(path)
    updates = {}
    if correction is not None:
        if correction not in ("holm", "bh", "bonferroni"):
            raise ConfigError(f"--correction must be holm, bh or bonferroni, got {correction!r}")
        updates["correction"] = correction
    if alpha is not None:
        updates["alpha"] = alpha
    return config.model_copy(update=updates) if updates else config


@app.command("analyze")
def analyze_cmd(table: Path = TABLE, config: Optional[Path] = CONFIG, json_out: bool = JSON,
                experiment: Optional[str] = typer.Option(None, "--experiment", help="experiment_id to read out."),
                exposures: Optional[Path] = typer.Option(
                    None, help="Take each unit's arm from a serving exposure log (<ws>/serve/exposures)."),
                correction: Optional[str] = typer.Option(None, help="holm | bh | bonferroni (overrides the config)."),
                alpha: Optional[float] = typer.Option(None, min=0.0001, max=0.5, help="Overrides the config."),
                quarantine: Optional[Path] = typer.Option(
                    None, help="Write quarantined rows here (Parquet); default <ws>/experiment/quarantine.parquet "
                               "with -w, else <table>.quarantine.parquet."),
                workspace: Optional[Path] = WORKSPACE) -> None:
    """Per metric: effect, relative effect, interval, p-value, adjusted p-value; SRM gate (exit 3)."""
    _require_extra()
    from intentkg.experiment.stage import run_analyze, to_json

    settings = _config(config, correction, alpha)
    out = quarantine
    if out is None:  # the workspace stage keeps it; else beside the input
        out = None if workspace else table.with_name(table.name.split(".")[0] + ".quarantine.parquet")
    readout = run_analyze(table, settings, config_file=config, experiment=experiment, exposures=exposures,
                          workspace=workspace, quarantine_out=out)
    out = out or workspace / "experiment" / "quarantine.parquet"
    if json_out:
        typer.echo(to_json(readout.as_dict()))
    else:
        _print_readout(readout, out)
    if not readout.srm.passed:
        Console(stderr=True).print(f"[bold red]error:[/] {escape(readout.srm.message())}", highlight=False,
                                   soft_wrap=True)
        raise typer.Exit(SRM_FAILED)


def _print_readout(readout, quarantine_path: Path) -> None:
    from rich.table import Table

    srm = readout.srm
    counts = ", ".join(f"{arm} {n:,}" for arm, n in srm.counts.items())
    console.print(f"SRM check: {counts}; chi-square p = {srm.p_value:.3g} "
                  f"({'passed' if srm.passed else 'FAILED'} at {srm.alpha})", highlight=False)
    q = readout.quarantine
    if q.get("rows"):
        reasons = ", ".join(f"{k} {v:,}" for k, v in q["by_reason"].items())
        console.print(f"quarantined {q['rows']:,} cell(s)/row(s): {reasons} -> {quarantine_path}", highlight=False)
    if readout.ignored_columns:
        console.print(f"ignored (not numeric): {', '.join(readout.ignored_columns)}", highlight=False)
    for skipped in readout.skipped:
        console.print(f"[yellow]not read out: {escape(skipped['metric'])} ({escape(skipped['arm'])}): "
                      f"{escape(skipped['reason'])}[/]")
    if readout.family is None:
        return
    console.print(readout.family.describe(), highlight=False)
    view = Table(show_header=True, header_style="bold")
    for name in ("metric", "arm", "family", "control", "treatment", "effect", "relative", "interval",
                 "p", "p adj.", "sig.", "CUPED"):
        view.add_column(name)
    for e in readout.effects:
        d = e.as_dict()
        rel = "—" if d["relative_effect"] is None else f"{100 * d['relative_effect']:+.2f}%"
        view.add_row(escape(e.metric), escape(e.arm), e.family, f"{e.control_value:.4g}", f"{e.treatment_value:.4g}",
                     f"{e.effect:+.4g}", rel, f"[{d['ci_low']:+.4g}, {d['ci_high']:+.4g}] @{e.ci_level:.2%}",
                     f"{e.p_value:.3g}", "—" if e.p_adjusted is None else f"{e.p_adjusted:.3g}",
                     ("yes" if e.significant else "no") + (" (nominal)" if e.family == "exploratory" else ""),
                     "—" if e.cuped is None else f"-{100 * e.cuped:.1f}% var")
    console.print(view)


@app.command("prune")
def prune_cmd(table: Path = typer.Argument(..., help="Historical experiments (several experiment_id) or A/A data."),
              config: Optional[Path] = CONFIG, json_out: bool = JSON,
              threshold: float = typer.Option(0.7, min=0.0, max=1.0, help="|r| at or above which metrics are redundant."),
              max_decision: int = typer.Option(15, min=1, help="At most this many decision metrics."),
              prefer: list[str] = typer.Option([], help="Metrics to pick as their cluster's representative."),
              out: Optional[Path] = typer.Option(None, help="Write the proposed tiers as a metrics YAML for analyze."),
              workspace: Optional[Path] = WORKSPACE) -> None:
    """Correlation matrix, PCA (components for 95% variance), clusters, representatives and tiers."""
    _require_extra()
    from intentkg.experiment.stage import run_prune, tiers_yaml, to_json

    settings = _config(config, None, None)
    result, quarantine = run_prune(table, settings, threshold=threshold, max_decision=max_decision, prefer=prefer,
                                   config_file=config, workspace=workspace)
    if out is not None:
        atomic_file.write_text(out, tiers_yaml(result, settings))
    if json_out:
        doc = result.as_dict()
        doc["quarantine"] = quarantine.summary()
        typer.echo(to_json(doc))
        return
    console.print(f"{len(result.metrics)} metrics over {result.units:,} units in {result.experiments} experiment(s); "
                  f"{result.components_95} principal components explain 95% of the variance; "
                  f"{len(result.clusters)} clusters at |r| >= {threshold}", highlight=False)
    if len(quarantine):
        console.print(f"quarantined {len(quarantine):,}: {dict(quarantine.by_reason)}", highlight=False)
    for cluster, rep in zip(result.clusters, result.representatives):
        others = [m for m in cluster if m != rep]
        console.print(f"  [bold]{escape(rep)}[/]" + (f"  (+ {escape(', '.join(others))})" if others else ""))
    console.print(f"rule: {result.rule}", highlight=False)
    for tier, names in result.tiers.items():
        console.print(f"{tier}: {escape(', '.join(names)) or '—'}", highlight=False)
    if out is not None:
        console.print(f"tiers written to {out} (use: intentkg experiment analyze TABLE --config {out})", highlight=False)


@app.command("power")
def power_cmd(table: Path = TABLE, config: Optional[Path] = CONFIG, json_out: bool = JSON,
              power: float = typer.Option(0.8, min=0.5, max=0.99, help="Target power."),
              alpha: Optional[float] = typer.Option(None, min=0.0001, max=0.5, help="Overrides the config."),
              target_lift: float = typer.Option(0.01, help="Relative lift to size the sample for (0.01 = 1%)."),
              units: Optional[int] = typer.Option(None, help="Units per arm to compute the MDE for; default: the table's."),
              family_size: Optional[int] = typer.Option(None, help="Decision family size of the pruned set "
                                                                   "(default: the config's decision list)."),
              expected_true: int = typer.Option(1, min=1, help="True effects expected (BH's per-test level)."),
              experiment: Optional[str] = typer.Option(None, "--experiment", help="experiment_id to use.")) -> None:
    """MDE and units needed per metric, for the whole metric set vs the decision family."""
    _require_extra()
    from intentkg.experiment.power import power_table
    from intentkg.experiment.stage import load_for_readout, to_json

    settings = _config(config, None, alpha)
    loaded = load_for_readout(table, settings, experiment=experiment)
    arms = [a for a in settings.valid_arms() if a != settings.control]
    families = {"all": len(loaded.units.metrics) * len(arms)}
    decision = family_size or (len(settings.decision) * len(arms) if settings.decision is not None else None)
    if decision:
        families["decision"] = decision
    result = power_table(loaded.units, families, alpha=settings.alpha, power=power, control=settings.control,
                         treatment=arms[0], target_lift=target_lift, expected_true=expected_true,
                         n_control=units, n_treatment=units)
    if json_out:
        typer.echo(to_json(result.as_dict()))
        return
    from rich.table import Table

    console.print(f"{result.n_control:,} control and {result.n_treatment:,} treatment units; power {power:.0%}, "
                  f"alpha {settings.alpha}; per-test level alpha/m with m = "
                  + ", ".join(f"{m} ({name})" for name, m in families.items()), highlight=False)
    view = Table(show_header=True, header_style="bold")
    view.add_column("metric")
    view.add_column("baseline")
    for name in families:
        view.add_column(f"MDE {name} (m={families[name]})")
    for name in families:
        view.add_column(f"units for {target_lift:.1%} ({name})")
    for row in result.metrics:
        cells = [escape(row.metric), f"{row.baseline:.4g}"]
        for name in families:
            rel = row.relative_mde[name]
            cells.append(f"{row.mde[name]:.4g}" + ("" if rel is None else f" ({100 * rel:.2f}%)"))
        cells += ["—" if row.units_needed[n] is None else f"{row.units_needed[n]:,}" for n in families]
        view.add_row(*cells)
    console.print(view)
    if "decision" not in families:
        console.print("no decision family: run `intentkg experiment prune --out tiers.yaml` and pass --config tiers.yaml "
                      "to compare with the pruned set", highlight=False)
