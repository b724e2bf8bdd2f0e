"""Section: the LLM judge measured against the human labels (judge/agreement.json)."""

from __future__ import annotations

from intentkg.report.html import esc, table
from intentkg.report.registry import ReportContext, section


def _f(x) -> str:
    return "—" if x is None else f"{x:.3f}"


@section("judge", "LLM judge vs people", order=46)
def render(ctx: ReportContext) -> str | None:
    found = ctx.read_json("judge", "agreement.json")
    if found is None:
        return None
    r = found[1]
    rows = []
    for q in ("plausibility", "typicality"):
        x = r[q]
        ref = x.get("reference") or {}
        rows.append([q, x["n"], _f(x["roc_auc"]), _f(x["kendall_tau"]), _f(x["kendall_tau_within_groups"]),
                     f"{_f(x['mean_score_yes'])} / {_f(x['mean_score_no'])}",
                     f"{_f(ref.get('judge_roc_auc'))} vs {_f(ref.get('critic_roc_auc'))} (n {ref.get('n', 0)})"])
    calls = r.get("calls", {})
    copied = r.get("copied_example")
    warning = (f'<p class="err">{100 * copied:.0f}% of the scores copy the worked example in the prompt word for '
               f'word: this judge is not judging.</p>' if copied else "")
    return (table(["question", "n", "ROC-AUC", "Kendall τ", "τ within groups", "mean score yes / no",
                   "critic test split: judge vs critic ROC-AUC"], rows, numeric=(1, 2, 3, 4))
            + f"<p>Judge <code>{esc(r['model_id'])}</code> ({esc(r['backend'])}): {r['scored']:,} of {r['judged']:,} "
              f"candidates scored; {calls.get('calls', 0):,} calls, {calls.get('retries', 0):,} retries, "
              f"{calls.get('groups_failed', 0):,} groups without a valid answer. A judge can stand in for people "
              f"only where its ROC-AUC comes close to the critic's and its τ is clearly above 0.</p>" + warning)
