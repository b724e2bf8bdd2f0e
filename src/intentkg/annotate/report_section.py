"""Report section: annotation agreement (kappa, per annotator, pilot, audit) from annotate/agreement.json.

Registers itself when imported (``intentkg report`` imports it); the report package does not import
the annotate package back."""

from __future__ import annotations

from intentkg.annotate.agreement_html import render_agreement
from intentkg.report.html import esc
from intentkg.report.registry import ReportContext, section


@section("annotate", "Annotation agreement", order=40)
def render(ctx: ReportContext) -> str | None:
    found = ctx.read_json("annotate", "agreement.json")
    if found is None:
        return None
    path, report = found
    return render_agreement(report) + f'<p class="muted">From {esc(path)} (run `intentkg annotate agreement` ' \
                                       f'to refresh it from the store).</p>'
