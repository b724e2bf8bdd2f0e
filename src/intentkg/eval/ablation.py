"""The ablation by knowledge source and by relation: which knowledge helps?

    rows = run_ablation("ws", base_config)          # one evaluation per source set (and relation)

Each row is one ``intentkg eval esci`` run (its own stage folder, ``<base stage>-<name>``, default
``eval-esci-<name>``) that
differs from ``base_config`` only in its knowledge sources (:data:`~intentkg.eval.sources.ABLATION`:
product-only = the catalogue stage's facts; query-only = on-demand generation for every evaluated
query; behaviour = the KG built from the training split's logs; all) or, for the by-relation rows,
in the one relation kept (all sources). Every run reports its primary lift with both controls.
The rows form one family: the ``all`` row is the primary comparison (declared before the runs,
95% intervals), every other row's three comparisons (against without, shuffled, filler) are
Holm-adjusted together (:func:`adjust`, from each run's stored predictions). The table goes to
``<ws>/eval-ablation/ablation.json``.
"""

from __future__ import annotations

from pathlib import Path

from intentkg.eval.config import EvalConfig
from intentkg.eval.controls import BASELINES
from intentkg.eval.sources import ABLATION
from intentkg.workspace import Workspace

STAGE = "eval-ablation"


def ablation_stage(base: EvalConfig) -> str:
    """Where the table goes: ``eval-ablation`` for the default row prefix, else ``<prefix>-ablation``."""
    return STAGE if base.stage == "eval-esci" else f"{base.stage}-ablation"


def configs(base: EvalConfig, sets: list[str], relations: list[str]) -> dict[str, EvalConfig]:
    out = {}
    for name in sets:
        kg, on_demand, catalogue = ABLATION[name]
        knowledge = base.knowledge.model_copy(update={"kg": kg, "on_demand": on_demand, "catalogue": catalogue,
                                                      "on_demand_scope": "unseen" if on_demand else
                                                      base.knowledge.on_demand_scope})
        out[name] = base.model_copy(update={"knowledge": knowledge, "stage": f"{base.stage}-{name}"})
    for relation in relations:
        kg, on_demand, catalogue = ABLATION["all"]
        knowledge = base.knowledge.model_copy(update={"kg": kg, "on_demand": on_demand, "catalogue": catalogue,
                                                      "on_demand_scope": "unseen", "relations": [relation]})
        out[f"relation:{relation}"] = base.model_copy(update={"knowledge": knowledge,
                                                              "stage": f"{base.stage}-rel-{relation}"})
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


def replicates(ws: Workspace, stage: str, encoder: str, head: str, task: str, n_boot: int) -> dict:
    """The bootstrap differences (with − baseline) of a stored evaluation, from its predictions:
    the same paired replicates the stage drew (seed 0 over the same queries)."""
    from intentkg.eval.config import TASKS
    from intentkg.eval.metrics import compare
    from intentkg.eval.versus import stored_runs

    _, y, groups, runs = stored_runs(ws, stage, encoder, head, task)
    out = {}
    for baseline in (b for b in BASELINES if b in runs):
        scored = compare(y, groups, runs[baseline], runs["with"], TASKS[task], n_boot=n_boot, seed=0,
                         keep_replicates=True)
        out[baseline] = scored["_replicates"]
    return out


def adjust(ws: Workspace, planned: dict[str, EvalConfig], rows: list[dict], primary: str) -> dict:
    """One family over the ablation: ``primary`` (declared before the runs) at 95%, every other row's
    three comparisons Holm-adjusted together (controls.decide); the rows' intervals and verdicts
    are replaced by these."""
    from intentkg.eval.controls import decide

    pseudo = []
    for r in rows:
        if "skipped" in r:
            continue
        config = planned[r["name"]]
        encoder, head, task, _ = config.primary
        pseudo.append({"encoder": r["name"], "head": head, "task": task,
                       "_replicates": replicates(ws, config.stage, encoder, head, task, config.n_boot)})
    if not pseudo:
        return {}
    head, task, metric = pseudo[0]["head"], pseudo[0]["task"], "macro_f1"
    summary = decide(pseudo, (primary, head, task, metric))
    decided = {p["encoder"]: p["decision"] for p in pseudo}
    for r in rows:
        decision = decided.get(r["name"])
        if decision:
            c = decision["comparisons"]
            r.update({"lift_ci": c["without"]["ci"], "vs_shuffled_ci": c.get("shuffled", {}).get("ci"),
                      "vs_filler_ci": c.get("filler", {}).get("ci"), "counts": decision["counts"],
                      "primary": decision["primary"], "adjustment": decision["adjustment"],
                      "p_holm": {b: v["p_holm"] for b, v in c.items()}})
    return summary


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
    primary = "all" if "all" in planned else next(iter(planned))
    decision = adjust(ws, planned, rows, primary)
    with ws.run(ablation_stage(base), config={"base": base.model_dump(mode="json"), "rows": list(planned)},
                inputs=[c.stage for c in planned.values() if ws.manifest(c.stage) is not None], force=True) as run:
        run.write_json("ablation.json", {"primary": primary, "decision": decision, "rows": rows})
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
                     f"{'yes' if r['counts'] else 'no'}{' (primary)' if r.get('primary') else ''} |")
    return "\n".join(lines)
