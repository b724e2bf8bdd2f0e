"""Section: the GRPO refine run: the guard's curve, before / after on held-out behaviours, samples."""

from __future__ import annotations

from intentkg.report.html import esc, table
from intentkg.report.registry import ReportContext, section

COLUMNS = (("reward", "mean reward"), ("heldout_critic", "held-out critic"), ("agreement", "τ reward ~ held-out critic"),
           ("human_tau", "τ reward ~ people"), ("human_auc", "ROC-AUC reward ~ people"),
           ("filter_pass_share", "passes the filter"), ("critic_pass_rate", "critic pass rate"),
           ("distinct_tails", "distinct tails"))


def _f(x) -> str:
    if x is None:
        return "—"
    return f"{x:.3f}" if isinstance(x, float) else str(x)


@section("refine", "Refine (GRPO) and its reward-hacking guard", order=48)
def render(ctx: ReportContext) -> str | None:
    manifest = ctx.workspace.manifest("refine")
    if manifest is None or manifest.status != "complete":
        return None
    guard = manifest.extra.get("guard") or {}
    curve = guard.get("curve") or []
    counts = manifest.counts
    before, after = counts.get("before") or {}, counts.get("after") or {}
    parts = [table(["measure (held-out behaviours)", "before", "after"],
                   [[label, _f(before.get(k)), _f(after.get(k))] for k, label in COLUMNS], numeric=(1, 2))]
    if curve:
        parts.append(table(["step", *[label for _, label in COLUMNS]],
                           [[p.get("step"), *[_f(p.get(k)) for k, _ in COLUMNS]] for p in curve],
                           numeric=tuple(range(len(COLUMNS) + 1))))
    stopped = guard.get("stopped_at")
    best = (guard.get("best") or {}).get("step")
    lineage = manifest.extra.get("lineage") or {}
    heldout = lineage.get("heldout") or {}
    parts.append(
        f"<p>Policy <code>{esc((lineage.get('base') or {}).get('id'))}</code>, {esc(counts.get('steps'))} GRPO steps "
        f"on {esc(counts.get('train_prompts'))} prompts; the guard evaluated every {esc(guard.get('every'))} steps on "
        f"{esc(counts.get('heldout_prompts'))} held-out prompts and {esc(heldout.get('heldout_labels'))} held-out "
        f"human labels (set {esc(str(heldout.get('sha256') or '')[:12])}). "
        + (f"It stopped training at step {esc(stopped)}: the reward rose while the held-out agreement fell for "
           f"{esc(guard.get('patience'))} evaluations. " if stopped is not None else "The stop rule did not fire. ")
        + f"Kept: the checkpoint of step {esc(best)} (best held-out critic score).</p>")
    samples = ctx.workspace.table_path("refine", "heldout_samples")
    if samples.exists():
        import pyarrow.parquet as pq

        rows = pq.read_table(samples).to_pylist()[: ctx.examples * 2]
        parts.append(table(["behaviour", "relation", "answer (model text)", "reward"],
                           [[r["head"], r["relation"], r["answer"], _f(r["reward"])] for r in rows], numeric=(3,)))
    return "".join(parts)
