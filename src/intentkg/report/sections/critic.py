"""Section: the trained critic's held-out metrics, threshold and calibration (critic/intentkg_critic.json)."""

from __future__ import annotations

import json

from intentkg.report.html import esc, table
from intentkg.report.registry import ReportContext, section

META = "intentkg_critic.json"


def _f(x) -> str:
    return "—" if x is None else f"{x:.3f}"


@section("critic", "Critic", order=45)
def render(ctx: ReportContext) -> str | None:
    path = ctx.workspace.output_path("critic", META)  # confined to the workspace
    if not path.exists():
        return None
    meta = json.loads(path.read_text(encoding="utf-8"))
    rows = []
    for task in meta["tasks"]:
        m, thr = meta["metrics"][task], meta["threshold_details"][task]
        test, at = m["test"], m["test_at_threshold"]
        par = at["precision_at_recall"]
        rows.append([task, test["n"], test["positives"], _f(m["test_raw"]["roc_auc"]), _f(test["roc_auc"]),
                     _f(test["average_precision"]), _f(thr["threshold"]), "yes" if thr["target_met"] else "no",
                     _f(at["precision"]), _f(at["recall"]), _f(at["f1"]),
                     " / ".join(_f(par[r]) for r in sorted(par)), f"{_f(m['test_raw']['ece'])} → {_f(test['ece'])}"])
    recalls = " / ".join(sorted(next(iter(meta["metrics"].values()))["test"]["precision_at_recall"]))
    train = meta["train"]
    ann = meta["annotations"]
    counts = meta["split"]["counts"]
    return (
        table(["task", "test n", "yes", "ROC-AUC (raw)", "ROC-AUC", "AP", "threshold (dev)",
               f"precision ≥ {meta['target_precision']} on dev", "precision", "recall", "F1",
               f"precision at recall {recalls}", "ECE raw → calibrated"], rows, numeric=tuple(range(1, 13)))
        + f"<p>Critic <code>{esc(meta['critic_id'])}</code>: {esc(meta['base_model'])} fine-tuned for "
          f"{train['epochs']} epochs (lr {train['learning_rate']}, batch {train['batch_size']}, max length "
          f"{train['max_length']}); split by behaviour into {counts['train']}/{counts['dev']}/{counts['test']} "
          f"candidates (train/dev/test). Calibration: {esc(meta['calibration'][meta['tasks'][0]]['method'])} on dev, "
          f"folded into the saved weights; thresholds chosen on dev, metrics measured on test.</p>"
          f"<p class=\"muted\">Trained on annotation snapshot {esc(str(ann['snapshot_sha256'])[:16])} "
          f"({ann['rows']:,} labelled candidates). Input template: <code>{esc(meta['template'])}</code>.</p>")
