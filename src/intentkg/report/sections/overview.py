"""Section: every stage of the workspace, with its status, outputs, models and timings."""

from __future__ import annotations

from intentkg.report.html import esc, table
from intentkg.report.registry import ReportContext, section


@section("overview", "Workspace", order=0)
def render(ctx: ReportContext) -> str | None:
    ws = ctx.workspace
    rows = []
    for stage in ws.stages():
        m = ws.manifest(stage)
        if m is None:
            continue
        outputs = ", ".join(f"{name} {o.rows:,}" for name, o in m.outputs.items())
        models = "; ".join(f"{x.role}: {x.model_id}" for x in m.models)
        rows.append([stage, m.status, outputs, models, round(m.seconds, 1), m.finished_at])
    if not rows:
        return None
    return table(["stage", "status", "outputs (rows)", "models", "seconds", "finished"], rows, numeric=(4,)) + \
        f'<p class="muted">Each stage folder under {esc(ws.root)} holds its tables and a manifest.json.</p>'
