"""Report section: the ESCI knowledge-injection test (every ``eval-esci*`` stage with a results.json).

Registered through :mod:`intentkg.report.sections.eval_esci`. Shows the headline lift, a forest
plot of every lift with its 95% interval, the scores table, coverage and a few knowledge texts.
"""

from __future__ import annotations

import json
from typing import Any

from intentkg.report.charts import PALETTE, bar_chart
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


def forest_plot(rows: list[tuple[str, float, float, float]], title: str, width: int = 720) -> str:
    """One row per (label, estimate, low, high): a dot with its interval and a line at zero."""
    if not rows:
        return ""
    low = min(0.0, *(r[2] for r in rows))
    high = max(0.0, *(r[3] for r in rows))
    span = (high - low) or 1.0
    low, high = low - 0.05 * span, high + 0.05 * span
    label_w, right_w, row_h, top = 190, 170, 22, 30
    plot_w = width - label_w - right_w
    height = top + row_h * len(rows) + 24

    def x(v: float) -> float:
        return label_w + plot_w * (v - low) / (high - low)

    out = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'aria-label="{esc(title)}" font-family="system-ui,sans-serif" font-size="12">',
           f'<text x="0" y="15" font-weight="600">{esc(title)}</text>',
           f'<line x1="{x(0):.1f}" y1="{top - 6}" x2="{x(0):.1f}" y2="{height - 20}" stroke="#8c959f" '
           f'stroke-dasharray="4 3"/>',
           f'<text x="{x(0):.1f}" y="{height - 6}" text-anchor="middle" fill="#57606a">0</text>']
    for i, (label, est, lo, hi) in enumerate(rows):
        y = top + i * row_h + row_h / 2
        color = PALETTE[0] if lo > 0 else (PALETTE[4] if hi < 0 else PALETTE[5])
        tip = f"{label}: {est:+.3f} (95% CI {lo:+.3f} to {hi:+.3f})"
        out.append(f'<text x="{label_w - 8}" y="{y + 4:.1f}" text-anchor="end">{esc(label)}</text>'
                   f'<line x1="{x(lo):.1f}" y1="{y:.1f}" x2="{x(hi):.1f}" y2="{y:.1f}" stroke="{color}" '
                   f'stroke-width="2"><title>{esc(tip)}</title></line>'
                   f'<circle cx="{x(est):.1f}" cy="{y:.1f}" r="4.5" fill="{color}"><title>{esc(tip)}</title></circle>'
                   f'<text x="{width - right_w + 8}" y="{y + 4:.1f}" fill="#57606a">'
                   f'{esc(f"{est:+.3f} [{lo:+.3f}, {hi:+.3f}]")}</text>')
    out.append("</svg>")
    return "".join(out)


def _stage_results(ctx: ReportContext) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for stage in ctx.workspace.stages():
        path = ctx.workspace.stage_dir(stage) / "results.json"
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
            rows.append([lab, metric, f"{without['mean']:.3f} {_ci(without['ci'], signed=False)}",
                         f"{with_['mean']:.3f} {_ci(with_['ci'], signed=False)}",
                         f"{lift['abs']:+.3f} {_ci(lift['abs_ci'])}",
                         "—" if lift["rel"] is None else f"{100 * lift['rel']:+.1f}% {_ci(lift['rel_ci'], True)}",
                         f"{lift['p_positive']:.2f}", len(r["without"][metric]["seeds"])])
    parts.append(table(["model · task", "metric", "without [95% CI]", "with [95% CI]", "lift [95% CI]",
                        "relative [95% CI]", "share of replicates > 0", "seeds"], rows, numeric=(6, 7)))
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
