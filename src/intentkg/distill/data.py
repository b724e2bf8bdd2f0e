"""``intentkg distill data``: the student's instruction data, built from a workspace (stage ``distill-data``).

    manifest = run_distill_data("ws", DataConfig(esci=Path("esci/")))
    # ws/distill-data/instructions.parquet: one row per task instance

Where each task's answers come from:

- generation: the candidates the filter keeps at the workspace's operating point, exactly the ones
  ``intentkg build`` turns into edges (:func:`intentkg.kg.select.create_kept`);
- plausibility / typicality: final human labels (stage ``annotate``, ``intentkg annotate export``)
  where a candidate has one, else the critic's stored score against the critic's threshold
  (the operating point's critic metadata, else ``<ws>/critic``, else the point's own threshold);
- search relevance: search_buy behaviours (yes), catalogue products never bought for the query
  (no, seeded), and ESCI labels when ``esci`` is given (E/S yes, C/I no);
- co-purchase: co_buy behaviours (yes), the left product with one never bought with it (no).

The split is grouped: every instance of one behaviour (co_buy) or one query (search_buy, ESCI)
lands in the same split, so no dev/test instance's behaviour or query is trained on.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from intentkg import operating_point
from intentkg.distill import instances
from intentkg.distill.tasks import PHRASINGS, TASKS, pick, render_generation, render_judgement, render_pair
from intentkg.errors import ConfigError, IntentkgError
from intentkg.generate.relations import workspace_relations
from intentkg.workspace import Manifest, Workspace

STAGE = "distill-data"
TABLE = "instructions"
SPLITS = ("train", "dev", "test")
NEEDS = {"generation": ("generate", "filter"), "plausibility": ("generate", "filter"),
         "typicality": ("generate", "filter"), "search_relevance": (), "co_purchase": ()}
HOW = {"ingest": "intentkg ingest ... -w {ws}", "generate": "intentkg generate -w {ws}",
       "filter": "intentkg filter -w {ws}"}
MESSAGE = pa.struct([pa.field("role", pa.string()), pa.field("content", pa.string())])
SCHEMA = pa.schema([
    pa.field("row_id", pa.string(), nullable=False), pa.field("task", pa.string(), nullable=False),
    pa.field("template_id", pa.string(), nullable=False), pa.field("prompt", pa.list_(MESSAGE), nullable=False),
    pa.field("completion", pa.string(), nullable=False), pa.field("label", pa.bool_()),
    pa.field("split", pa.string(), nullable=False), pa.field("group", pa.string(), nullable=False),
    pa.field("behavior_id", pa.string()), pa.field("relation", pa.string()),
    pa.field("source_stage", pa.string(), nullable=False), pa.field("source_ids", pa.list_(pa.string())),
    pa.field("label_source", pa.string(), nullable=False), pa.field("label_detail", pa.string()),
])


class DataConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tasks: list[str] = Field(default_factory=lambda: list(TASKS))
    esci: Path | None = Field(None, description="ESCI folder (the two shopping_queries_dataset parquet files)")
    esci_max_queries: int | None = Field(None, ge=1, description="at most this many ESCI queries per ESCI split")
    negatives: int = Field(1, ge=0, le=10, description="sampled negatives per positive pair")
    max_tails: int = Field(3, ge=1, le=10, description="kept tails in one generation answer")
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    seed: int = 0


def split_of_groups(groups: set[str], fractions: tuple[float, float, float], seed: int) -> dict[str, str]:
    """group -> train | dev | test: seeded, order-independent, whole groups."""
    ranked = sorted(groups, key=lambda g: hashlib.sha256(f"{seed}\x1f{g}".encode()).hexdigest())
    n = len(ranked)
    cut1 = round(fractions[0] * n)
    cut2 = cut1 + round(fractions[1] * n)
    if n >= 3:  # a tiny workspace still gets a group in each evaluation split
        cut1 = min(cut1, n - 2)
        cut2 = min(max(cut2, cut1 + 1), n - 1)
    return {g: SPLITS[0] if i < cut1 else SPLITS[1] if i < cut2 else SPLITS[2] for i, g in enumerate(ranked)}


def _need(ws: Workspace, stage: str, task: str) -> None:
    if ws.manifest(stage) is None:
        raise IntentkgError(f"distill data: task {task!r} needs stage {stage!r} of workspace {ws.root}, which has "
                            f"not run: run `{HOW[stage].format(ws=ws.root)}` first, or leave the task out "
                            f"(--task {' --task '.join(t for t in TASKS if stage not in NEEDS[t] and t != task)})")


def _critic_threshold(ws: Workspace, point: operating_point.OperatingPoint, task: str) -> tuple[float | None, str]:
    metadata = point.critic_metadata or (ws.stage_dir("critic") if ws.manifest("critic") else None)
    if metadata is not None:
        path, chosen = operating_point.critic_thresholds(metadata)
        if f"min_{task}" in chosen:
            return chosen[f"min_{task}"], str(path)
    value = point.min_plausibility if task == "plausibility" else point.min_typicality
    return value, "operating point"


def build_instances(ws: Workspace, config: DataConfig, counts: Counter) -> tuple[list[dict], dict[str, Any]]:
    """Every task instance of the workspace (unphrased, unsplit) and what the manifest records about them."""
    behaviors = ws.read("ingest", "behaviors").to_pylist()
    by_id = {b["behavior_id"]: b for b in behaviors}
    products = {p["product_id"]: p["title"] for p in ws.read("ingest", "products").to_pylist()}
    rng = random.Random(config.seed)
    rows: list[dict] = []
    extra: dict[str, Any] = {}
    judged = [t for t in ("plausibility", "typicality") if t in config.tasks]
    if "generation" in config.tasks or judged:
        point = operating_point.saved(ws)
        extra["operating_point"] = point.model_dump(mode="json")
        candidates = {c["candidate_id"]: c for c in ws.read("generate", "candidates").to_pylist()}
    if "generation" in config.tasks:
        from intentkg import duck
        from intentkg.kg.select import create_kept

        con = duck.connect()
        for name, stage in (("candidates", "generate"), ("scores", "filter")):
            con.register(name, ws.read(stage, name))
        create_kept(con, ws, point)
        kept = duck.to_arrow(con, "SELECT * FROM kept").to_pylist()
        counts["generation_kept_candidates"] = len(kept)
        rows += instances.generation(kept, by_id, config.max_tails)
    if judged:
        human = ws.read("annotate", "labels").to_pylist() if ws.manifest("annotate") else []
        scores = ws.read("filter", "scores").to_pylist()
        for task in judged:
            threshold, source = _critic_threshold(ws, point, task)
            extra[f"{task}_critic_threshold"] = {"value": threshold, "from": source}
            rows += instances.judgements(task, human, scores, threshold, candidates, by_id)
    if "search_relevance" in config.tasks:
        esci = _esci(config, counts) if config.esci else []
        rows += instances.search_relevance([b for b in behaviors if b["kind"] == "search_buy"], products,
                                           config.negatives, rng, esci)
    if "co_purchase" in config.tasks:
        rows += instances.co_purchase([b for b in behaviors if b["kind"] == "co_buy"], products, config.negatives,
                                      rng)
    return rows, extra


def _esci(config: DataConfig, counts: Counter) -> list[dict]:
    from intentkg.eval.esci_data import EsciDataConfig, load_esci

    data = load_esci(EsciDataConfig(path=config.esci, max_queries=config.esci_max_queries, seed=config.seed))
    counts["esci_pairs"] = data.pairs.num_rows
    return data.pairs.select(["example_id", "query", "title", "label"]).to_pylist()


def phrase(row: dict, seed: int, relations: dict) -> dict:
    """The instance as an instruction row: its phrasing, prompt messages and provenance."""
    task = row["task"]
    phrasing = pick(task, row["key"], seed)
    if task == "generation":
        b = row["behavior"]
        prompt = render_generation(phrasing, relations.get(row["relation"]), row["relation"], b["kind"],
                                   b["left_text"], b["right_text"])
    elif task in ("plausibility", "typicality"):
        prompt = render_judgement(phrasing, task, relations.get(row["relation"]), row["relation"], row["kind"],
                                  row["behavior_text"], row["tail"])
    else:
        prompt = render_pair(phrasing, task, row["a"], row["b"])
    row_id = hashlib.sha256(f"{task}\x1f{row['key']}".encode()).hexdigest()[:20]
    return {"row_id": row_id, "task": task, "template_id": phrasing.id, "prompt": prompt,
            "completion": row["completion"], "label": row["label"], "split": row["split"], "group": row["group"],
            "behavior_id": row.get("behavior_id"), "relation": row.get("relation"),
            "source_stage": row["source_stage"], "source_ids": row["source_ids"], "label_source": row["label_source"],
            "label_detail": row["label_detail"]}


def run_distill_data(workspace: str | Path | Workspace, config: DataConfig | None = None,
                     force: bool = False) -> Manifest:
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    config = config or DataConfig()
    unknown = [t for t in config.tasks if t not in TASKS]
    if unknown or not config.tasks:
        raise ConfigError(f"--task {unknown[0] if unknown else ''!r}: choose from {', '.join(TASKS)}")
    if abs(sum(config.fractions) - 1) > 1e-6 or min(config.fractions) < 0:
        raise ConfigError(f"split fractions {config.fractions}: give three shares (train, dev, test) summing to 1")
    if ws.manifest("ingest") is None:
        raise IntentkgError(f"distill data: workspace {ws.root} has no stage 'ingest': run "
                            f"`{HOW['ingest'].format(ws=ws.root)}` first")
    stages = ["ingest"]
    for task in config.tasks:
        for stage in NEEDS[task]:
            _need(ws, stage, task)
            stages += [stage] if stage not in stages else []
    if any(t in config.tasks for t in ("plausibility", "typicality")):
        stages += [s for s in ("annotate", "critic") if ws.manifest(s) is not None]
    inputs: list[str | Path] = [*stages, *([config.esci] if config.esci else [])]
    with ws.run(STAGE, config=config.model_dump(mode="json"), inputs=inputs, force=force) as run:
        if run.skipped:
            return run.previous  # type: ignore[return-value]
        counts: Counter = Counter()
        with run.time("instances"):
            rows, extra = build_instances(ws, config, counts)
        splits = split_of_groups({r["group"] for r in rows}, config.fractions, config.seed)
        relations = workspace_relations(ws) if any(r["task"] != "search_relevance" for r in rows) else {}
        with run.time("phrase"):
            out = []
            for row in rows:
                row["split"] = splits[row["group"]]
                out.append(phrase(row, config.seed, relations))
        if not out:
            raise IntentkgError(f"distill data: workspace {ws.root} gave no instances for {', '.join(config.tasks)}")
        run.write(TABLE, pa.Table.from_pylist(out, schema=SCHEMA), schema=SCHEMA)
        counts.update({f"{t}/{s}": 0 for t in config.tasks for s in SPLITS})  # a task with no rows says 0
        for r in out:
            counts[f"{r['task']}/{r['split']}"] += 1
            counts[f"{r['task']}/label_source/{r['label_source']}"] += 1
        run.counts.update(dict(sorted(counts.items())))
        run.counts["rows"] = len(out)
        groups = Counter(splits.values())
        run.extra.update(extra)
        run.extra["split"] = {"by": "behaviour (co_buy: behavior_id) and query (search_buy, ESCI: lower-cased query)",
                              "fractions": list(config.fractions), "seed": config.seed,
                              "groups": {s: groups.get(s, 0) for s in SPLITS}}
        run.extra["phrasings"] = {t: [p.id for p in PHRASINGS[t]] for t in config.tasks}
    return ws.committed(STAGE)  # type: ignore[return-value]
