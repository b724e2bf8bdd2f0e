"""The ablation by knowledge source and by relation: which knowledge helps?

    rows = run_ablation("ws", base_config)          # one evaluation per source set (and relation)

Each row is one ``intentkg eval esci`` run (its own stage folder, ``eval-esci-<name>``) that
differs from ``base_config`` only in its knowledge sources (:data:`~intentkg.eval.sources.ABLATION`:
product-only = the catalogue stage's facts; query-only = on-demand generation for every evaluated
query; behaviour = the KG built from the training split's logs; all) or, for the by-relation rows,
in the one relation kept (all sources). Every run reports its primary lift with both controls.
The table goes to ``<ws>/eval-ablation/ablation.json``.
"""

from __future__ import annotations

from pathlib import Path

from intentkg.eval.config import EvalConfig
from intentkg.eval.sources import ABLATION
from intentkg.workspace import Workspace

STAGE = "eval-ablation"


def configs(base: EvalConfig, sets: list[str], relations: list[str]) -> dict[str, EvalConfig]:
    out = {}
    for name in sets:
        kg, on_demand, catalogue = ABLATION[name]
        knowledge = base.knowledge.model_copy(update={"kg": kg, "on_demand": on_demand, "catalogue": catalogue,
                                                      "on_demand_scope": "unseen" if on_demand else
                                                      base.knowledge.on_demand_scope})
        out[name] = base.model_copy(update={"knowledge": knowledge, "stage": f"eval-esci-{name}"})
    for relation in relations:
        kg, on_demand, catalogue = ABLATION["all"]
        knowledge = base.knowledge.model_copy(update={"kg": kg, "on_demand": on_demand, "catalogue": catalogue,
                                                      "on_demand_scope": "unseen", "relations": [relation]})
        out[f"relation:{relation}"] = base.model_copy(update={"knowledge": knowledge,
                                                              "stage": f"eval-esci-rel-{relation}"})
    return out


def row(name: str, document: dict) -> dict:
    top = document.get("headline") or {}
    evaluated = "all" if document.get("mode") == "folds" else document.get("config", {}).get("data", {}).get(
        "test_split", "test")
    cov = document.get("coverage", {}).get(evaluated, {})
    decision = top.get("decision") or {}
    comparisons = decision.get("comparisons") or {}
    controls = top.get("controls") or {}
    return {
        "name": name, "without": top.get("without", {}).get("mean"), "with": top.get("with", {}).get("mean"),
        "lift": top.get("abs"), "lift_ci": comparisons.get("without", {}).get("ci") or top.get("abs_ci"),
        **{f"vs_{c}": controls.get(c, {}).get("lift", {}).get("abs") for c in ("shuffled", "filler")},
        **{f"vs_{c}_ci": comparisons.get(c, {}).get("ci") for c in ("shuffled", "filler")},
        "counts": bool(decision.get("counts")), "coverage": cov.get("any"),
        "by_source": {k: v for k, v in cov.get("by_source", {}).items() if v},
    }


def run_ablation(workspace: str | Path | Workspace, base: EvalConfig, sets: list[str] | None = None,
                 relations: list[str] | None = None, force: bool = False) -> list[dict]:
    from intentkg.eval.stage import run_esci_eval

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    planned = configs(base, list(sets or ABLATION), list(relations or []))
    rows = []
    for name, config in planned.items():
        if config.knowledge.kg and not (ws.stage_dir("kg") / "nodes.parquet").exists():
            rows.append({"name": name, "skipped": f"no KG in {ws.root}"})
            continue
        rows.append(row(name, run_esci_eval(ws, config, force=force)))
    with ws.run(STAGE, config={"base": base.model_dump(mode="json"), "rows": list(planned)},
                inputs=[c.stage for c in planned.values() if ws.manifest(c.stage) is not None], force=True) as run:
        run.write_json("ablation.json", {"rows": rows})
        run.counts["rows"] = len(rows)
    return rows


def markdown(rows: list[dict]) -> str:
    """The table as Markdown (docs/eval.md's measured section is written from it)."""
    def ci(v):
        return f"[{v[0]:+.3f}, {v[1]:+.3f}]" if v else "n/a"

    def num(v, fmt="{:+.3f}"):
        return "n/a" if v is None else fmt.format(v)

    lines = ["| knowledge | coverage (test pairs) | macro-F1 without → with | lift [CI] | with − shuffled [CI] | "
             "with − filler [CI] | counts |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['name']} | skipped: {r['skipped']} | | | | | |")
            continue
        lines.append(f"| {r['name']} | {num(r['coverage'], '{:.0%}')} | {num(r['without'], '{:.3f}')} → "
                     f"{num(r['with'], '{:.3f}')} | {num(r['lift'])} {ci(r['lift_ci'])} | {num(r['vs_shuffled'])} "
                     f"{ci(r['vs_shuffled_ci'])} | {num(r['vs_filler'])} {ci(r['vs_filler_ci'])} | "
                     f"{'yes' if r['counts'] else 'no'} |")
    return "\n".join(lines)
