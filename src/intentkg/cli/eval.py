"""``intentkg eval esci``: does KG knowledge in the input text help a frozen encoder on ESCI?"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from intentkg.cli.options import ENGINE, FORCE, WORKSPACE, on_demand_model
from intentkg.engine.settings import EngineSettings, with_engine_name
from intentkg.errors import ConfigError

app = typer.Typer(help="Evaluations: what the knowledge does for search.", no_args_is_help=True)
ON_DEMAND_MODEL = on_demand_model("--on-demand-model")
console = Console(width=None if sys.stdout.isatty() else 120)
TASK_NAMES = {"esci": "E/S/C/I", "substitute": "substitute"}


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:+.1f}%"


def _ci(interval: list[float] | None, fmt: str = "{:+.3f}", scale: float = 1.0) -> str:
    if not interval:
        return "n/a"
    return f"[{fmt.format(interval[0] * scale)}, {fmt.format(interval[1] * scale)}]"


def headline_line(top: dict) -> str:
    metric = {"macro_f1": "macro-F1", "micro_f1": "micro-F1"}.get(top["metric"], top["metric"])
    task = {"esci": "ESCI 4-class E/S/C/I", "substitute": "substitute identification"}[top["task"]]
    return (f"knowledge lift, {task} {metric} ({top['encoder']}-encoder + {top['head']}, {top['n_queries']} "
            f"queries / {top['n_pairs']} pairs): {top['without']['mean']:.3f} -> {top['with']['mean']:.3f}, "
            f"{top['abs']:+.3f} absolute (95% CI {_ci(top['abs_ci'])}), {_pct(top['rel'])} relative "
            f"(95% CI {_ci(top['rel_ci'], '{:+.1f}%', 100)}){controls_clause(top)}")


def controls_clause(top: dict) -> str:
    """'; against controls: shuffled ..., filler ...; counts / does not count' (empty without controls)."""
    decision = top.get("decision") or {}
    comparisons = decision.get("comparisons") or {}
    parts = [f"{name} {c['score']['mean']:.3f} (with - {name} {c['lift']['abs']:+.3f} "
             f"{_ci(comparisons.get(name, {}).get('ci') or c['lift']['abs_ci'])})"
             for name, c in (top.get("controls") or {}).items()]
    if not parts:
        return ""
    verdict = ("the lift COUNTS: it beats without knowledge and both controls (every interval excludes 0)"
               if decision.get("counts") else "the lift does NOT count: an interval against without knowledge or "
                                              "a control includes 0 or lies below it")
    kind = "primary, declared before the run" if decision.get("primary") else "secondary, Holm-adjusted"
    return f"; controls: {'; '.join(parts)}; {verdict} ({kind})"


def print_results(document: dict) -> None:
    table = Table(title="ESCI: frozen encoders, without vs with knowledge in the input (95% bootstrap CI over "
                        "queries)")
    for column in ("encoder + head", "task", "metric", "without", "with", "lift [95% CI]", "relative",
                   "with - shuffled", "with - filler", "counts"):
        table.add_column(column, justify="left" if column in ("encoder + head", "task", "metric") else "right")
    for r in document["results"]:
        for metric in ("macro_f1", "micro_f1"):
            lift = r["lift"][metric]
            decision = r.get("decision") or {}
            decided = decision.get("metric") == metric
            against = []
            for name in ("shuffled", "filler"):
                control = (r.get("controls") or {}).get(name)
                ci = (decision.get("comparisons", {}).get(name, {}).get("ci") if decided else None)
                against.append("n/a" if control is None else
                               f"{control['lift'][metric]['abs']:+.3f} {_ci(ci or control['lift'][metric]['abs_ci'])}")
            ci = decision.get("comparisons", {}).get("without", {}).get("ci") if decided else None
            verdict = ("" if not decided else ("yes" if decision.get("counts") else "no")
                       + (" (primary)" if decision.get("primary") else " (Holm)"))
            table.add_row(f"{r['encoder']} + {r['head']}", TASK_NAMES.get(r["task"], r["task"]),
                          metric.replace("_f1", "-F1"), f"{r['without'][metric]['mean']:.3f}",
                          f"{r['with'][metric]['mean']:.3f}", f"{lift['abs']:+.3f} {_ci(ci or lift['abs_ci'])}",
                          _pct(lift["rel"]), *against, verdict)
    console.print(table)
    console.print("Intervals: 95% for the primary comparison (declared before the run) and for micro-F1; "
                  "Holm-adjusted for the other macro-F1 comparisons (docs/eval.md).", highlight=False)
    evaluated = "all" if document.get("mode") == "folds" else document["config"]["data"]["test_split"]
    cov = document["coverage"].get(evaluated, {})
    if cov:
        sources = ", ".join(f"{k} {100 * v:.0f}%" for k, v in cov["by_source"].items() if v)
        console.print(f"knowledge coverage ({evaluated}, {cov['pairs']} pairs): any {100 * cov['any']:.0f}%, "
                      f"query side {100 * cov['query_side']:.0f}%, product side {100 * cov['product_side']:.0f}%"
                      f"{'; by source: ' + sources if sources else ''}", highlight=False, soft_wrap=True)
    if document.get("headline"):
        console.print(headline_line(document["headline"]), highlight=False, soft_wrap=True)


def _primary(text: str | None) -> dict:
    """``--primary fusion,mlp,esci`` -> ``{"primary": ("fusion", "mlp", "esci", "macro_f1")}``."""
    if text is None:
        return {}
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 3 or not all(parts):
        raise ConfigError(f"--primary {text!r}: give ENCODER,HEAD,TASK, e.g. fusion,mlp,esci")
    return {"primary": (*parts, "macro_f1")}


@app.command("esci")
def esci(
    data: Optional[Path] = typer.Argument(None, help="Folder with shopping_queries_dataset_{examples,products}.parquet."),
    workspace: Path = WORKSPACE,
    demo: bool = typer.Option(False, "--demo", help="Use the bundled demo ESCI set (synthetic)."),
    examples: Optional[Path] = typer.Option(None, help="The examples parquet file, if not in DATA."),
    products: Optional[Path] = typer.Option(None, help="The products parquet file, if not in DATA."),
    locale: list[str] = typer.Option(["us"], help="product_locale to keep (repeatable); 'all' keeps every one."),
    version: str = typer.Option("large", help="large (ESCI tasks 2/3), small (task 1) or all."),
    train_split: str = typer.Option("train", help="Split value the heads train on."),
    test_split: str = typer.Option("test", help="Split value the heads are scored on."),
    folds: int = typer.Option(0, help=">1: cross-fit over K query-grouped folds instead of the split column."),
    max_queries: Optional[int] = typer.Option(None, help="Sub-sample at most this many queries per split."),
    split_seed: Optional[int] = typer.Option(None, min=0, help="Draw the test queries again with this seed (as many as "
                                                         "the file's test split has): robustness over splits."),
    encoder: list[str] = typer.Option(["bi", "cross"], help="bi, cross and/or fusion (repeatable; docs/eval.md)."),
    fusion_vectors: bool = typer.Option(False, "--fusion-vectors",
                                        help="fusion: also append the knowledge embeddings, not only their cosines."),
    fusion_facts: bool = typer.Option(False, "--fusion-facts",
                                      help="fusion: also the query against each product fact alone, and the "
                                           "query-title cosine in every setting (docs/eval.md)."),
    head: list[str] = typer.Option(["logreg", "mlp"], help="logreg, mlp and/or mlp_vote (one head of --seeds MLPs "
                                                         "voting by mean probability; repeatable)."),
    task: list[str] = typer.Option(["esci", "substitute"], help="esci (4-class) and/or substitute (repeatable)."),
    seeds: int = typer.Option(3, help="Head seeds."),
    bootstrap: int = typer.Option(1000, help="Bootstrap replicates over queries."),
    top_k: int = typer.Option(5, help="Facts per side in the knowledge text."),
    kg: bool = typer.Option(True, "--kg/--no-kg", help="Look knowledge up in the workspace's KG."),
    nearest: bool = typer.Option(True, "--nearest/--no-nearest", help="Nearest-KG-head fallback by embedding."),
    min_similarity: float = typer.Option(0.6, help="Cosine a nearest KG head needs to lend its facts."),
    unseen: str = typer.Option("split", help="Protocol keeping evaluated queries out of the KG: split (default: "
                                             "test queries hidden for all, each pair leaves its own query out; "
                                             "with --folds the predicted fold is hidden), own, test, all or none "
                                             "(docs/eval.md)."),
    on_demand: bool = typer.Option(False, "--on-demand", help="Generate + filter knowledge for queries the KG misses."),
    on_demand_scope: str = typer.Option("missing", help="--on-demand for queries without an exact KG hit "
                                                        "(missing) or for every evaluated query (unseen)."),
    catalogue: bool = typer.Option(True, "--catalogue/--no-catalogue",
                                   help="Product-side knowledge from `intentkg catalogue`, when the workspace has it."),
    relation: list[str] = typer.Option([], "--relation", help="Keep only facts of this relation (repeatable)."),
    controls: bool = typer.Option(True, "--controls/--no-controls",
                                  help="Also score the shuffled-knowledge and filler controls."),
    on_demand_config: Optional[Path] = typer.Option(
        None, help="YAML with generate:/filter: sections for --on-demand (default: the workspace's own)."),
    on_demand_model: Optional[str] = ON_DEMAND_MODEL,
    finetune: bool = typer.Option(False, "--finetune", help="Also fine-tune the cross-encoder (unfrozen; slow on CPU)."),
    finetune_epochs: int = typer.Option(3, help="Epochs for --finetune."),
    product_field: list[str] = typer.Option(["title"], help="Product text: title, brand, color, bullets, "
                                                           "description (repeatable)."),
    device: str = typer.Option("cpu", help="cpu or cuda."),
    threads: Optional[int] = typer.Option(None, help="Torch threads (default: all cores unless the machine is busy)."),
    engine: Optional[str] = ENGINE,
    stage: str = typer.Option("eval-esci", help="Workspace folder for the results (keep several runs apart)."),
    primary: Optional[str] = typer.Option(
        None, help="The primary comparison, declared before the run: ENCODER,HEAD,TASK (e.g. fusion,mlp,esci; "
                   "default cross,mlp,esci). Every other one is secondary and Holm-adjusted."),
    as_json: bool = typer.Option(False, "--json", help="Print results.json instead of the table."),
    force: bool = FORCE,
) -> None:
    """Frozen encoders + trained heads on ESCI, with and without KG knowledge in the input; prints the lift."""
    from intentkg.eval.config import EvalConfig, FinetuneConfig, KnowledgeConfig
    from intentkg.eval.esci_data import EsciDataConfig
    from intentkg.eval.stage import run_esci_eval

    if demo:
        from intentkg.demo_data import demo_path

        data = demo_path("esci")
    if data is None and (examples is None or products is None):
        raise ConfigError("give the ESCI folder, --examples and --products, or --demo")
    locales = [] if [l.lower() for l in locale] == ["all"] else locale
    try:
        config = EvalConfig(
            data=EsciDataConfig(path=data, examples=examples, products=products, locales=locales, version=version,
                                train_split=train_split, test_split=test_split, folds=folds,
                                max_queries=max_queries, split_seed=split_seed, product_fields=product_field),
            knowledge=KnowledgeConfig(kg=kg, top_k=top_k, nearest=nearest, min_similarity=min_similarity,
                                      unseen=unseen, on_demand=on_demand, on_demand_scope=on_demand_scope,
                                      catalogue=catalogue, relations=list(dict.fromkeys(relation)) or None,
                                      on_demand_config=str(on_demand_config) if on_demand_config else None,
                                      on_demand_model=on_demand_model),
            encoders=list(dict.fromkeys(encoder)), heads=list(dict.fromkeys(head)), tasks=list(dict.fromkeys(task)),
            seeds=seeds, n_boot=bootstrap, device=device, threads=threads, stage=stage, controls=controls,
            fusion_vectors=fusion_vectors, fusion_facts=fusion_facts, **_primary(primary),
            finetune=FinetuneConfig(enabled=finetune, epochs=finetune_epochs),
            engine=with_engine_name(EngineSettings(), engine or "local"))
    except Exception as exc:
        from pydantic import ValidationError

        if isinstance(exc, ValidationError):
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"eval esci: {problems}") from None
        raise
    document = run_esci_eval(workspace, config, force=force)
    if as_json:
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print_results(document)


@app.command("show")
def show(workspace: Path = typer.Argument(Path("workspace"), help="Workspace folder."),
         stage: str = typer.Option("eval-esci", help="The evaluation's workspace folder."),
         table: bool = typer.Option(False, "--table", help="Also print every comparison, not only the headline.")
         ) -> None:
    """Print the stored result of the last `eval esci` run (no computation)."""
    from intentkg.eval.stage import read_results

    document = read_results(workspace, stage)
    if not document:
        raise ConfigError(f"{workspace / stage} has no results.json: run `intentkg eval esci -w {workspace}` first")
    if table:
        print_results(document)
    elif document.get("headline"):
        console.print(headline_line(document["headline"]), highlight=False, soft_wrap=True)


@app.command("ablation")
def ablation(
    data: Path = typer.Argument(..., help="Folder with shopping_queries_dataset_{examples,products}.parquet."),
    workspace: Path = WORKSPACE,
    source_set: list[str] = typer.Option(["product-only", "query-only", "behaviour", "all"], "--set",
                                         help="Source sets to compare (repeatable)."),
    relation: list[str] = typer.Option([], "--relation", help="Also one row per relation kept alone (repeatable)."),
    version: str = typer.Option("large", help="large, small or all."),
    encoder: list[str] = typer.Option(["cross"], help="bi, cross and/or fusion (repeatable; the first is primary)."),
    fusion_vectors: bool = typer.Option(False, "--fusion-vectors",
                                        help="fusion: also append the knowledge embeddings, not only their cosines."),
    fusion_facts: bool = typer.Option(False, "--fusion-facts",
                                      help="fusion: also the query against each product fact alone, and the "
                                           "query-title cosine in every setting (docs/eval.md)."),
    stage: str = typer.Option("eval-esci", help="Prefix of the rows' workspace folders (<stage>-<row>)."),
    head: list[str] = typer.Option(["mlp"], help="logreg, mlp and/or mlp_vote (repeatable)."),
    task: list[str] = typer.Option(["esci"], help="esci and/or substitute (repeatable)."),
    seeds: int = typer.Option(3, help="Head seeds."),
    bootstrap: int = typer.Option(1000, help="Bootstrap replicates over queries."),
    on_demand_config: Optional[Path] = typer.Option(None, help="YAML with generate:/filter: sections for on-demand."),
    on_demand_model: Optional[str] = ON_DEMAND_MODEL,
    force: bool = FORCE,
) -> None:
    """One evaluation per knowledge source set (product-only, query-only, behaviour, all), with controls."""
    from intentkg.eval.ablation import markdown, run_ablation
    from intentkg.eval.config import EvalConfig, KnowledgeConfig
    from intentkg.eval.esci_data import EsciDataConfig
    from intentkg.eval.sources import ABLATION

    unknown = [s for s in source_set if s not in ABLATION]
    if unknown:
        raise ConfigError(f"eval ablation: unknown --set {', '.join(unknown)}; choose from {', '.join(ABLATION)}")
    config = EvalConfig(data=EsciDataConfig(path=data, version=version),
                        knowledge=KnowledgeConfig(on_demand_config=str(on_demand_config) if on_demand_config else None,
                                                  on_demand_model=on_demand_model),
                        encoders=list(dict.fromkeys(encoder)), heads=list(dict.fromkeys(head)),
                        tasks=list(dict.fromkeys(task)), seeds=seeds, n_boot=bootstrap,
                        primary=(encoder[0], head[0], task[0], "macro_f1"), fusion_vectors=fusion_vectors,
                        fusion_facts=fusion_facts, stage=stage)
    rows = run_ablation(workspace, config, source_set, relation, force=force)
    typer.echo(markdown(rows))


@app.command("versus")
def versus_cmd(workspace: Path = typer.Argument(..., help="Workspace folder holding both evaluations."),
               first: str = typer.Argument(..., help="Stage folder of the first evaluation (e.g. eval-base)."),
               second: str = typer.Argument(..., help="Stage folder of the second (e.g. eval-refined)."),
               encoder: str = typer.Option("fusion", help="Encoder whose predictions are compared."),
               head: str = typer.Option("mlp", help="Head whose predictions are compared."),
               task: str = typer.Option("esci", help="esci or substitute."),
               setting: str = typer.Option("with", help="with, shuffled or filler."),
               bootstrap: int = typer.Option(1000, help="Bootstrap replicates over queries."),
               as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON.")) -> None:
    """Two stored evaluations of the same pairs, paired over queries: second minus first (docs/eval.md)."""
    from intentkg.eval.versus import versus

    result = versus(workspace, first, second, encoder=encoder, head=head, task=task, setting=setting,
                    n_boot=bootstrap)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    for metric in ("macro_f1", "micro_f1"):
        d = result["difference"][metric]
        console.print(f"{metric} ({setting}, {encoder} + {head}, {task}; {result['n_queries']} queries / "
                      f"{result['n_pairs']} pairs): {first} {result['first_score'][metric]['mean']:.3f} -> {second} "
                      f"{result['second_score'][metric]['mean']:.3f}, {d['abs']:+.3f} "
                      f"(95% CI [{d['abs_ci'][0]:+.3f}, {d['abs_ci'][1]:+.3f}], share of replicates > 0: "
                      f"{d['p_positive']:.2f})", highlight=False, soft_wrap=True)
    if not result["same_without"]:
        console.print("note: the two runs' predictions without knowledge differ (not the same encoder, heads "
                      "or seeds?)", highlight=False)
