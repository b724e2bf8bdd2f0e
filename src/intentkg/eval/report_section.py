"""Report section: the ESCI knowledge-injection test (every ``eval-esci*`` stage with a results.json).

Registers itself when imported (``intentkg report`` imports it; the report package does not import the
evaluation back). Shows the headline lift, a forest
plot of every lift with its 95% interval, the scores table, coverage and a few knowledge texts.
"""

from __future__ import annotations

import json
from typing import Any

from intentkg.report.charts import PALETTE, bar_chart, forest_plot  # noqa: F401  (forest_plot re-exported)
from intentkg.report.html import esc, table
from intentkg.report.registry import ReportContext, section

TASKS = {"esci": "E/S/C/I", "substitute": "substitute"}


def _ci(interval, pct: bool = False, signed: bool = True) -> str:
    if not interval:
        return "—"
    if pct:
        return f"[{100 * interval[0]:+.1f}%, {100 * interval[1]:+.1f}%]"
    if not signed:
        return f"[{interval[0]:.3f}, {interval[1]:.3f}]"
    return f"[{interval[0]:+.3f}, {interval[1]:+.3f}]"


def _controls_paragraph(top: dict) -> str:
    controls, decision = top.get("controls") or {}, top.get("decision") or {}
    if not controls:
        return ""
    comparisons = decision.get("comparisons", {})
    items = [f"{esc(name)} knowledge {c['score']['mean']:.3f} (with − {esc(name)} <b>{c['lift']['abs']:+.3f}</b> "
             f"{esc(_ci(comparisons.get(name, {}).get('ci') or c['lift']['abs_ci']))})" for name, c in controls.items()]
    verdict = ("<b>counts</b>: it beats without knowledge and both controls" if decision.get("counts") else
               "<b>does not count</b>: an interval against without knowledge or a control includes 0")
    return f"<p>Controls: {'; '.join(items)}. The lift {verdict}.</p>"


def _stage_results(ctx: ReportContext) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for stage in ctx.workspace.stages():
        path = ctx.workspace.output_path(stage, "results.json")  # confined to the workspace
        if stage.startswith("eval-esci") and path.exists():
            found.append((stage, json.loads(path.read_text(encoding="utf-8"))))
    return found


def _one(stage: str, doc: dict[str, Any]) -> str:
    results = doc.get("results", [])
    parts = [f"<h3>{esc(stage)}</h3>"]
    top = doc.get("headline")
    if top:
        rel = "—" if top["rel"] is None else f"{100 * top['rel']:+.1f}%"
        parts.append(
            f"<p><b>Lift ({esc(top['encoder'])}-encoder + {esc(top['head'])}, {esc(TASKS.get(top['task'], top['task']))}"
            f" {esc(top['metric'])}):</b> {top['without']['mean']:.3f} → {top['with']['mean']:.3f}, "
            f"<b>{top['abs']:+.3f}</b> absolute (95% CI {esc(_ci(top['abs_ci']))}), "
            f"{rel} relative (95% CI "
            f"{esc(_ci(top['rel_ci'], True))}); {top['n_queries']} queries, {top['n_pairs']} pairs.</p>")
        parts.append(_controls_paragraph(top))
    labels = [f"{r['encoder']} + {r['head']} · {TASKS.get(r['task'], r['task'])}" for r in results]
    parts.append('<div class="grid"><div>' + forest_plot(
        [(lab, r["lift"]["macro_f1"]["abs"], *r["lift"]["macro_f1"]["abs_ci"]) for lab, r in zip(labels, results)],
        "macro-F1 lift (with − without), 95% bootstrap CI over queries") + "</div><div>" + bar_chart(
        labels, {"without knowledge": [r["without"]["macro_f1"]["mean"] for r in results],
                 "with knowledge": [r["with"]["macro_f1"]["mean"] for r in results]},
        title="macro-F1 (mean over seeds)", value_format="{:.3f}") + "</div></div>")
    rows = []
    for lab, r in zip(labels, results):
        for metric in ("macro_f1", "micro_f1"):
            lift = r["lift"][metric]
            without, with_ = r["without"][metric], r["with"][metric]
            decision = r.get("decision") or {}
            decided = decision.get("metric") == metric
            comparisons = decision.get("comparisons", {}) if decided else {}
            against = []
            for name in ("shuffled", "filler"):
                control = (r.get("controls") or {}).get(name)
                against.append("—" if control is None else f"{control['lift'][metric]['abs']:+.3f} "
                               f"{_ci(comparisons.get(name, {}).get('ci') or control['lift'][metric]['abs_ci'])}")
            verdict = "—" if not decided else ("yes" if decision.get("counts") else "no") + (
                " (primary)" if decision.get("primary") else " (Holm)")
            rows.append([lab, metric, f"{without['mean']:.3f} {_ci(without['ci'], signed=False)}",
                         f"{with_['mean']:.3f} {_ci(with_['ci'], signed=False)}",
                         f"{lift['abs']:+.3f} {_ci(comparisons.get('without', {}).get('ci') or lift['abs_ci'])}",
                         "—" if lift["rel"] is None else f"{100 * lift['rel']:+.1f}% {_ci(lift['rel_ci'], True)}",
                         *against, verdict, f"{lift['p_positive']:.2f}", len(r["without"][metric]["seeds"])])
    parts.append(table(["model · task", "metric", "without [95% CI]", "with [95% CI]", "lift [CI]",
                        "relative [95% CI]", "with − shuffled [CI]", "with − filler [CI]", "counts",
                        "share of replicates > 0", "seeds"], rows, numeric=(9, 10)))
    parts.append('<p class="muted">Intervals: 95% for the primary comparison (declared before the run) and '
                 "micro-F1; Holm-adjusted (step-down level) for the other macro-F1 comparisons. A lift counts only "
                 "when its intervals against without knowledge, shuffled knowledge and same-length filler all "
                 "exclude 0.</p>")
    per_class = []
    for lab, r in zip(labels, results):
        for label, score in r["without"]["per_class_f1"].items():
            per_class.append([lab, label, f"{score['mean']:.3f}", f"{r['with']['per_class_f1'][label]['mean']:.3f}",
                              f"{r['lift'].get('f1_' + label, {}).get('abs', 0):+.3f}"])
    parts.append("<details><summary>per-class F1</summary>" + table(
        ["model · task", "class", "without", "with", "lift"], per_class, numeric=(2, 3, 4)) + "</details>")
    cov_rows = [[split, c["pairs"], f"{100 * c['any']:.0f}%", f"{100 * c['query_side']:.0f}%",
                 f"{100 * c['product_side']:.0f}%",
                 ", ".join(f"{k} {100 * v:.0f}%" for k, v in c["by_source"].items() if v), c["mean_facts"]]
                for split, c in doc.get("coverage", {}).items()]
    parts.append("<p>Knowledge coverage (share of pairs):</p>" + table(
        ["split", "pairs", "any", "query side", "product side", "by source", "facts per pair"], cov_rows,
        numeric=(1, 6)))
    examples = doc.get("examples", [])
    if examples:
        parts.append("<details><summary>knowledge texts given to the encoders (examples)</summary>" + table(
            ["query", "product", "label", "knowledge"],
            [[e["query"], e["title"], e["label"], e["knowledge"]] for e in examples]) + "</details>")
    cfg = doc.get("config", {})
    data = doc.get("data", {})
    note = ("synthetic demo data: this number says the code works end to end, not how large the effect is on "
            "real traffic. " if any("demo_data" in f for f in doc.get("files", [])) else "")
    parts.append(f'<p class="muted">{esc(note)}Data: {esc(", ".join(doc.get("files", [])))}; {data.get("pairs", 0)} '
                 f"pairs, {data.get('queries', 0)} queries; {esc(doc.get('mode', ''))} mode; unseen="
                 f"{esc(cfg.get('knowledge', {}).get('unseen'))}, top-k {esc(cfg.get('knowledge', {}).get('top_k'))}"
                 f"; {cfg.get('seeds')} seeds, {cfg.get('n_boot')} bootstrap replicates. See docs/eval.md.</p>")
    return "".join(parts)


@section("eval-esci", "ESCI evaluation", order=60)
def render(ctx: ReportContext) -> str | None:
    found = _stage_results(ctx)
    if not found:
        return None
    return "".join(_one(stage, doc) for stage, doc in found)
