"""Report section: annotation agreement (kappa, per annotator, pilot, audit) from annotate/agreement.json.

Registers itself when imported (``intentkg report`` imports it); the report package does not import
the annotate package back."""

from __future__ import annotations

import json

from intentkg.annotate.agreement_html import render_agreement
from intentkg.report.html import esc
from intentkg.report.registry import ReportContext, section


@section("annotate", "Annotation agreement", order=40)
def render(ctx: ReportContext) -> str | None:
    path = ctx.workspace.output_path("annotate", "agreement.json")  # confined to the workspace
    if not path.exists():
        return None
    report = json.loads(path.read_text(encoding="utf-8"))
    return render_agreement(report) + f'<p class="muted">From {esc(path)} (run `intentkg annotate agreement` ' \
                                       f'to refresh it from the store).</p>'
