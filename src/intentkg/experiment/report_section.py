"""Report section: the experiment read-out (stage ``experiment``) and the metric pruning (stage
``experiment-prune``): SRM verdict, the family and correction, a forest plot of relative effects with
their (adjusted) intervals, the results table, the correlation heatmap and the PCA scree plot.
Registers itself when imported (``intentkg report`` imports it; the report package does not import
the experiment package back)."""

from __future__ import annotations

import json
from typing import Any

from intentkg.report.charts import forest_plot, heatmap, scree_plot
from intentkg.report.html import esc, table
from intentkg.report.registry import ReportContext, section


def _read(ctx: ReportContext, stage: str, name: str) -> dict[str, Any] | None:
    path = ctx.workspace.output_path(stage, name)  # confined to the workspace
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:+.2f}%"


def readout_html(doc: dict[str, Any]) -> str:
    srm = doc["srm"]
    counts = ", ".join(f"{arm} {n:,}" for arm, n in srm["counts"].items())
    verdict = "passed" if srm["passed"] else "FAILED: the effects are not read out"
    css = "" if srm["passed"] else "err"
    p_value = f"{srm['p_value']:.3g}"
    parts = [f'<p class="{css}"><b>Sample-ratio check</b>: {esc(counts)}; chi-square '
             f'p = {esc(p_value)} ({esc(verdict)})</p>']
    quarantine = doc.get("quarantine") or {}
    if quarantine.get("rows"):
        reasons = ", ".join(f"{k} {v:,}" for k, v in quarantine["by_reason"].items())
        parts.append(f"<p>Quarantined: {esc(quarantine['rows'])} ({esc(reasons)})</p>")
    family = doc.get("family")
    metrics = doc.get("metrics") or []
    if family:
        level = f"{family['ci_level']:.2%}"
        parts.append(f"<p>Decision family: {esc(family['size'])} comparison(s), {esc(family['method'])} at alpha "
                     f"{esc(family['alpha'])}, adjusted intervals at {esc(level)}; guardrails "
                     f"each at alpha; exploratory metrics nominal, not corrected.</p>")
    several_arms = len({m["arm"] for m in metrics}) > 1
    rows = [(f"{m['metric']}{' vs ' + m['arm'] if several_arms else ''} · {m['family']}", m["relative_effect"],
             m["relative_ci_low"],
             m["relative_ci_high"]) for m in metrics if m.get("relative_effect") is not None
            and m.get("relative_ci_low") is not None]
    if rows:
        parts.append(forest_plot([(label, 100 * e, 100 * lo, 100 * hi) for label, e, lo, hi in rows],
                                 "Relative effect, % (decision metrics at the adjusted level)"))
    if metrics:
        parts.append(table(
            ["metric", "arm", "family", "control", "treatment", "effect", "relative", "interval", "p", "p adjusted",
             "significant", "CUPED variance cut"],
            [(m["metric"], m["arm"], m["family"], f"{m['control_value']:.4g}", f"{m['treatment_value']:.4g}",
              f"{m['effect']:+.4g}",
              _pct(m["relative_effect"]), f"[{m['ci_low']:+.4g}, {m['ci_high']:+.4g}] at {m['ci_level']:.2%}",
              f"{m['p_value']:.3g}", "—" if m["p_adjusted"] is None else f"{m['p_adjusted']:.3g}",
              ("yes" if m["significant"] else "no") + (" (nominal)" if m["family"] == "exploratory" else ""),
              "—" if m["cuped"] is None else f"{100 * m['cuped']:.1f}%") for m in metrics],
            numeric=(3, 4, 5, 8, 9)))
    return "".join(parts)


def pruning_html(doc: dict[str, Any]) -> str:
    parts = [f"<p>{esc(len(doc['metrics']))} metrics, {esc(doc['units'])} units in {esc(doc['experiments'])} "
             f"experiment(s): {esc(doc['components_95'])} principal components explain 95% of the variance; "
             f"{esc(len(doc['clusters']))} clusters at |r| &ge; {esc(doc['threshold'])}. Representative rule: "
             f"{esc(doc['rule'])}.</p>"]
    order = [m for cluster in doc["clusters"] for m in cluster]
    index = {m: i for i, m in enumerate(doc["metrics"])}
    matrix = [[doc["correlation"][index[a]][index[b]] for b in order] for a in order]
    parts.append('<div class="grid"><div>' + heatmap(order, matrix, "Metric correlation (clustered order)")
                 + "</div><div>" + scree_plot(doc["explained_variance_ratio"], "PCA scree plot") + "</div></div>")
    parts.append(table(["representative", "cluster"],
                       [(rep, ", ".join(c)) for rep, c in zip(doc["representatives"], doc["clusters"])]))
    parts.append(table(["tier", "metrics"], [(tier, ", ".join(names) or "—") for tier, names in doc["tiers"].items()]))
    return "".join(parts)


@section("experiment", "Experiment read-out", order=65)
def render(ctx: ReportContext) -> str | None:
    readout = _read(ctx, "experiment", "readout.json")
    pruning = _read(ctx, "experiment-prune", "pruning.json")
    if readout is None and pruning is None:
        return None
    parts = []
    if readout is not None:
        parts.append("<h3>A/B read-out</h3>" + readout_html(readout))
    if pruning is not None:
        parts.append("<h3>Metric pruning</h3>" + pruning_html(pruning))
    return "".join(parts)
