"""Workspace stages around the store: ``sample`` (pick what to annotate) and ``annotate`` (export
the store's answers, final labels and agreement as tables other stages read).

The store itself (``<ws>/annotate/store.sqlite``) is live, mutable state; the ``annotate`` stage
writes a snapshot of it, fingerprinted by content, so a critic trained from it records exactly
which labels it saw and is skipped when nothing changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from intentkg.annotate.agreement import compute_agreement
from intentkg.annotate.labels import final_labels
from intentkg.annotate.questions import NAMES
from intentkg.annotate.sampling import SampleConfig, prepare, sample, uncertainty_of
from intentkg.annotate.store import Item, Store
from intentkg.errors import IntentkgError
from intentkg.schemas import ANNOTATIONS, LABELS
from intentkg.workspace import Manifest, Workspace
from intentkg.workspace.fingerprint import hash_json

SAMPLE_STAGE, EXPORT_STAGE = "sample", "annotate"
SAMPLE_SCHEMA = pa.schema([
    pa.field("candidate_id", pa.string(), nullable=False), pa.field("rank", pa.int32(), nullable=False),
    pa.field("batch", pa.string(), nullable=False), pa.field("audit", pa.bool_(), nullable=False),
    pa.field("stratum", pa.string(), nullable=False), pa.field("weight", pa.float64()),
    pa.field("popularity", pa.float64()), pa.field("frequency", pa.int32()), pa.field("uncertainty", pa.float64()),
])


def _read(ws: Workspace, stage: str, table: str, columns: list[str] | None = None) -> list[dict]:
    path = ws.table_path(stage, table)
    if not path.exists():
        raise IntentkgError(f"{path} is missing: run `intentkg {stage}` on workspace {ws.root} first")
    from intentkg.parquet_parts import schema

    names = schema(path).names  # a file, or a folder of parts (scores written on a cluster)
    return pq.read_table(path, columns=[c for c in columns if c in names] if columns else None).to_pylist()


def _scores(ws: Workspace) -> tuple[set[str], dict[str, float]]:
    """Candidates the filter flagged or folded as duplicates, and critic uncertainty per candidate."""
    path = ws.table_path("filter", "scores")
    if not path.exists():
        return set(), {}
    flagged, uncertain = set(), {}
    for r in _read(ws, "filter", "scores", ["candidate_id", "rule_flags", "dup_of", "plausibility", "typicality"]):
        if r.get("rule_flags") or r.get("dup_of"):
            flagged.add(r["candidate_id"])
        u = uncertainty_of(r.get("plausibility"), r.get("typicality"))
        if u is not None:
            uncertain[r["candidate_id"]] = u
    return flagged, uncertain


def run_sample(workspace: str | Path | Workspace, config: SampleConfig, force: bool = False) -> tuple[Manifest, int]:
    """Draw a sample of candidates and add it to the store; returns the manifest and items added."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    store = Store.for_workspace(ws.root)
    config.exclude = sorted(i.item_id for i in store.items()) if config.strategy == "uncertainty" else []
    inputs = ["ingest", "generate"] + (["filter"] if ws.manifest("filter") else [])
    cfg = dict(config.to_dict(), exclude_hash=hash_json(config.exclude))
    items: list[Item] | None = None
    with ws.run(SAMPLE_STAGE, config=cfg, inputs=inputs, force=force) as run:
        if not run.skipped:
            candidates = _read(ws, "generate", "candidates",
                               ["candidate_id", "behavior_id", "kind", "head", "relation", "tail", "parse_status"])
            behaviors = _read(ws, "ingest", "behaviors", ["behavior_id", "kind", "left", "right", "left_text",
                                                          "right_text", "support", "category"])
            flagged, uncertain = _scores(ws)
            if config.strategy == "uncertainty" and not uncertain:
                raise IntentkgError("uncertainty sampling needs critic scores: train a critic (intentkg train-critic) "
                                    "and run `intentkg filter` with it first")
            rows = prepare(candidates, behaviors, flagged if config.skip_flagged else None,
                           uncertain if config.strategy == "uncertainty" else None, set(config.exclude))
            picked = sample(rows, config)
            run.write("annotation_sample", pa.Table.from_pylist(
                [{k: r.get(k) for k in SAMPLE_SCHEMA.names} for r in picked], schema=SAMPLE_SCHEMA),
                schema=SAMPLE_SCHEMA)
            run.counts.update({"candidates": len(candidates), "eligible": len(rows), "sampled": len(picked),
                               "strata": len({r["stratum"] for r in picked}),
                               "pilot": sum(r["batch"] == "pilot" for r in picked),
                               "audit": sum(r["audit"] for r in picked)})
            items = [_to_item(r) for r in picked]
    if items is None:  # skipped: make sure the stored sample is in the store
        items = _items_from_sample(ws)
    added = store.add_items(items)
    return ws.manifest(SAMPLE_STAGE), added  # type: ignore[return-value]


def _to_item(r: dict) -> Item:
    return Item(item_id=r["candidate_id"], kind=r["kind"], head=r["head"], relation=r["relation"], tail=r["tail"],
                behavior_id=r["behavior_id"], left_text=r.get("left_text"), right_text=r.get("right_text"),
                product_ids=r.get("product_ids") or [], category=r.get("category"), batch=r["batch"],
                stratum=r["stratum"], weight=r.get("weight"), uncertainty=r.get("uncertainty"), audit=r["audit"])


def _items_from_sample(ws: Workspace) -> list[Item]:
    chosen = {r["candidate_id"]: r for r in _read(ws, SAMPLE_STAGE, "annotation_sample")}
    candidates = [c for c in _read(ws, "generate", "candidates") if c["candidate_id"] in chosen]
    behaviors = _read(ws, "ingest", "behaviors")
    rows = {r["candidate_id"]: r for r in prepare(candidates, behaviors)}
    return [_to_item({**rows[cid], **chosen[cid]}) for cid in sorted(chosen, key=lambda c: chosen[c]["rank"])
            if cid in rows]


def snapshot(store: Store) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
    """The store as two contract tables (answers, final labels) plus the agreement report."""
    items, answers = store.items(), store.answers()
    by_id = {i.item_id: i for i in items}
    ann_rows = [{"candidate_id": a.item_id, "annotator": a.annotator, "role": a.role, **a.values,
                 "batch": "audit" if a.role == "auditor" else by_id[a.item_id].batch,
                 "created_at": _timestamp(a.created_at)} for a in answers]
    labels = final_labels(answers)
    label_rows = []
    for item in items:
        f = labels.get(item.item_id)
        if f is None:
            continue
        label_rows.append({"candidate_id": item.item_id, "kind": item.kind, "head": candidate_head(item),
                           "relation": item.relation, "tail": item.tail, "category": item.category,
                           "batch": item.batch, "status": f.status, **f.values,
                           "disagreed": [q for q in NAMES if f.how[q] in ("disputed", "resolved")],
                           "annotators": f.annotators, "resolver": f.resolver})
    return (pa.Table.from_pylist(ann_rows, schema=ANNOTATIONS), pa.Table.from_pylist(label_rows, schema=LABELS),
            compute_agreement(items, answers))


def candidate_head(item: Item) -> str:
    """The head in the candidates table's format (what the critic sees when it scores candidates)."""
    if item.left_text and item.right_text:
        from intentkg.generate.plan import head_text

        return head_text(item.kind, item.left_text, item.right_text)
    return item.head


def _timestamp(text: str):
    from datetime import datetime

    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def run_export(workspace: str | Path | Workspace, force: bool = False) -> Manifest:
    """Write ``annotate/annotations.parquet``, ``annotate/labels.parquet`` and ``annotate/agreement.json``."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    store = Store.for_workspace(ws.root)
    answers, labels, report = snapshot(store)
    if labels.num_rows == 0:
        raise IntentkgError(f"the annotation store of {ws.root} has no answers yet: annotate with "
                            "`intentkg annotate serve`, or import labels with `intentkg annotate import`")
    content = hash_json({"answers": answers.to_pylist(), "labels": labels.to_pylist()})
    with ws.run(EXPORT_STAGE, config={"snapshot": content}, force=force) as run:
        if not run.skipped:
            run.write("annotations", answers)
            run.write("labels", labels)
            run.counts.update({"answers": answers.num_rows, "labelled_candidates": labels.num_rows,
                               "final_labels": report["final_labels"]})
            run.extra["snapshot_sha256"] = content
            run.extra["kappa"] = {q: s["kappa"] for q, s in report["questions"].items()}
            run.write_json("agreement.json", report)
    return ws.manifest(EXPORT_STAGE)  # type: ignore[return-value]
