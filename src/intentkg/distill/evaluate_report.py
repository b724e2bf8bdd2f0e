"""Report section: the student against its teacher per task (stage ``distill-eval``), with its lineage warnings.

Registers itself when imported (``intentkg report`` imports it through ``PACKAGE_SECTIONS``). Every value
that came from a model or the data (answers, prompts, model paths) is escaped.
"""

from __future__ import annotations

import json

from intentkg.report.html import esc, table
from intentkg.report.registry import ReportContext, section


def _v(value):
    return "—" if value is None else round(value, 3) if isinstance(value, float) else value


@section("distill-eval", "Student vs teacher", order=65)
def render(ctx: ReportContext) -> str | None:
    ws = ctx.workspace
    if ws.manifest("distill-eval") is None or ws.manifest("distill-eval").status != "complete":
        return None
    doc = json.loads(ws.output_path("distill-eval", "results.json").read_text(encoding="utf-8"))
    parts = [f"<p>Held-out split <b>{esc(doc.get('split'))}</b>; student {esc(doc.get('student'))}, "
             f"teacher {esc(doc.get('teacher'))}.</p>"]
    rows = [[t["task"], t["metric"], t.get("rows"), _v(t.get("student")), _v(t.get("teacher")), _v(t.get("critic")),
             {True: "yes", False: "no", None: "—"}[t.get("student_worse")]] for t in doc.get("tasks", [])]
    parts.append(table(["task", "metric", "rows", "student", "teacher", "critic", "student worse"], rows,
                       numeric=(2, 3, 4, 5)))
    speed = doc.get("tokens_per_second") or {}
    if speed.get("teacher"):
        parts.append(f"<p>Generation tokens/s on the same prompts: student "
                     f"{esc(_v(speed['student'].get('tokens_per_second')))}, teacher "
                     f"{esc(_v(speed['teacher'].get('tokens_per_second')))}.</p>")
    generation = next((t for t in doc.get("tasks", []) if t["task"] == "generation"), None)
    if generation:
        detail = generation.get("detail", {})
        keys = ("parsed", "rules_pass", "critic_pass", "distinct_tails", "overlap_with_teacher")
        parts.append(table(["generation", *keys], [[who, *(_v(detail.get(who, {}).get(k)) for k in keys)]
                                                   for who in ("student", "teacher")], numeric=(1, 2, 3, 4, 5)))
        examples = detail.get("student", {}).get("examples", [])
        if examples:
            parts.append("<details><summary>student answers (examples)</summary>" + table(
                ["prompt", "answer"], [[e["prompt"], e["answer"]] for e in examples]) + "</details>")
    train = ws.committed("distill")
    for warning in ((train.extra.get("lineage") or {}).get("warnings") or []) if train else []:
        parts.append(f"<p class=\"warn\">lineage warning: {esc(warning)}</p>")
    return "".join(parts)
