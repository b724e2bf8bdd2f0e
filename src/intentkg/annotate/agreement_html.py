"""The agreement report as an HTML fragment, shared by the web app's /agreement page and the
workspace report. Built only from escaped pieces (annotator names are user input)."""

from __future__ import annotations

from typing import Any

from intentkg.report.html import esc, table


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def num(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def render_agreement(report: dict[str, Any]) -> str:
    q_names = list(report["questions"])
    finals = ", ".join(f"{esc(k)} {v:,}" for k, v in sorted(report["final_labels"].items()))
    parts = [f"<p>{report['items']:,} items; {report['items_with_two']:,} with two annotator answers; annotators: "
             f"{esc(', '.join(report['annotators']))}. Final labels: {finals or 'none yet'}.</p>",
             table(["question", "pairs", "agreement", "Cohen's κ", "yes rate"],
                   [[q, s["n"], pct(s["percent_agreement"]), num(s["kappa"]), pct(s["yes_rate"])]
                    for q, s in report["questions"].items()], numeric=(1, 2, 3, 4))]
    if report["low_agreement"]:
        parts.append(f"<p class=\"err\">κ below 0.40, the guidelines need work: {esc(', '.join(report['low_agreement']))}</p>")
    parts.append("<h3>Per annotator</h3><p class=\"muted\">Per question: yes rate / agreement with the partner on "
                 "the same item / agreement with the final label.</p>")
    parts.append(table(["annotator", "answers", "median s", *q_names],
                       [[name, a["answered"], num(a["median_seconds"]),
                         *[f"{pct(a['yes_rate'][q])} / {pct(a['agreement_with_partner'][q])} / "
                           f"{pct(a['agreement_with_final'][q])}" for q in q_names]]
                        for name, a in report["per_annotator"].items()], numeric=(1, 2)))
    if report["annotator_pairs"]:
        parts.append("<h3>Annotator pairs (κ)</h3>")
        parts.append(table(["pair", "items", *q_names],
                           [[f"{p['a']} + {p['b']}", p["items"], *[num(p["kappa"][q]) for q in q_names]]
                            for p in report["annotator_pairs"]], numeric=(1,)))
    parts.append("<h3>Pilot</h3>")
    pilot = report["pilot"]
    if pilot:
        flag = (f"Questions with κ &lt; 0.40 in the pilot: {esc(', '.join(pilot['needs_guideline_work']))}."
                if pilot["needs_guideline_work"] else "Every question reached κ ≥ 0.40.")
        parts.append(f"<p>{pilot['items']:,} pilot items, {pilot['items_with_two']:,} with two answers. {flag}</p>")
        parts.append(table(["question", "pilot agreement", "pilot κ", "after the pilot: agreement", "after: κ"],
                           [[q, pct(s["percent_agreement"]), num(s["kappa"]),
                             pct(pilot["after_pilot"][q]["percent_agreement"]), num(pilot["after_pilot"][q]["kappa"])]
                            for q, s in pilot["questions"].items()], numeric=(1, 2, 3, 4)))
    else:
        parts.append("<p class=\"muted\">No pilot batch in this store (imported labels, or sampled with --pilot 0).</p>")
    res, audit = report["resolution"], report["audit"]
    parts.append(f"<h3>Resolution and audit</h3><p>{res['items_with_disagreement']:,} items had a disagreement: "
                 f"{res['resolved']:,} resolved, {res['open']:,} still open.</p>")
    if audit["items"]:
        verdict = "passed" if audit["passed"] else "NOT passed"
        parts.append(f"<p>Audit: {audit['items']:,} items re-annotated blind; the final labels match the auditor on "
                     f"{pct(audit['overall'])} of answers (target {pct(audit['target'])}: {verdict}).</p>")
        parts.append(table(q_names, [[pct(audit["accuracy"][q]) for q in q_names]], numeric=tuple(range(len(q_names)))))
    else:
        parts.append("<p class=\"muted\">No audit answers yet.</p>")
    return "\n".join(parts)
