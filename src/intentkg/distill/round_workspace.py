"""One self-imitation round's own workspace: ``<ws>/distill-rounds/round-<k>/``.

Its stages are the usual ones, run by the usual code, so each step of a round is recorded (a
manifest) and resumable (a finished step is skipped when the round runs again):

- ``ingest``: the main workspace's ingest tables, copied;
- ``generate``: ``intentkg generate``'s own stage with the previous round's student GGUF through
  llama.cpp, with the main workspace's generate settings (relations, sampling, selection) unless
  overridden;
- ``filter``: ``intentkg filter``'s own stage with the main workspace's filter settings (its critic),
  then the main workspace's operating point saved into the round;
- ``distill-data``: every row of the main instruction data (so the held-out rows are the same ones)
  plus one generation row per (behaviour, relation) that the round's filter kept at that point,
  for behaviours of the main data's train split only (``label_source = student_kept``, split
  ``train``): the student may answer for a held-out behaviour, but that answer is never trained on.
"""

from __future__ import annotations

import copy
import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa

from intentkg import operating_point
from intentkg.distill import instances
from intentkg.distill.data import SCHEMA, STAGE as DATA_STAGE, TABLE, SPLITS, phrase
from intentkg.generate.relations import workspace_relations
from intentkg.workspace import Workspace
from intentkg.workspace.manifest import ModelRef

STUDENT_KEPT = "student_kept"


def seed_ingest(main: Workspace, ws: Workspace) -> None:
    """The main workspace's ingest tables as the round's ingest stage (skipped when unchanged)."""
    manifest = main.committed("ingest")
    tables = sorted(name for name, ref in manifest.outputs.items() if ref.path.endswith(".parquet"))
    with ws.run("ingest", config={"copied_from": "the main workspace's ingest", "tables": tables},
                inputs=[main.read_dir("ingest")]) as run:
        if not run.skipped:
            for name in tables:
                run.write(name, main.read("ingest", name))


def _merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        out[key] = _merged(out.get(key) or {}, value) if isinstance(value, dict) and isinstance(out.get(key), dict) \
            else value
    return out


def generate_config(main: Workspace, student_gguf: Path, overrides: dict[str, Any]):
    """The main workspace's generate settings (as overridden) with the student GGUF as the llama.cpp backend."""
    from intentkg.generate.config import GenerateConfig

    settings = {k: v for k, v in main.stage_config("generate").items() if k in GenerateConfig.model_fields}
    settings.pop("engine", None)  # where the calls run never changes the answers
    settings = _merged(settings, overrides)
    backend = settings.get("backend") or {}
    options = dict(backend.get("options") or {}) if backend.get("name", "llama_cpp") == "llama_cpp" else {}
    settings["backend"] = {"name": "llama_cpp", "model": str(student_gguf), "options": options}
    return GenerateConfig.model_validate(settings)


def filter_config(main: Workspace, overrides: dict[str, Any] | None):
    from intentkg.filter.config import FilterConfig

    if overrides is not None:
        return FilterConfig.model_validate(overrides)
    return FilterConfig.model_validate({k: v for k, v in main.stage_config("filter").items()
                                        if k in FilterConfig.model_fields})


def generate_and_filter(main: Workspace, ws: Workspace, student_gguf: Path, generate: dict[str, Any],
                        filter_settings: dict[str, Any] | None) -> None:
    from intentkg.filter import run_filter
    from intentkg.generate import run_generate

    seed_ingest(main, ws)
    run_generate(generate_config(main, student_gguf, generate), ws)
    config = filter_config(main, filter_settings)  # at the main workspace's operating point, which it saves
    run_filter(ws, config.model_copy(update={"thresholds": operating_point.saved(main)}), quiet=True)


def _kept(ws: Workspace, point) -> list[dict]:
    from intentkg import duck
    from intentkg.kg.select import create_kept

    con = duck.connect()
    for name, stage in (("candidates", "generate"), ("scores", "filter")):
        con.register(name, ws.read(stage, name))
    create_kept(con, ws, point)
    return duck.to_arrow(con, "SELECT * FROM kept").to_pylist()


def build_round_data(main: Workspace, ws: Workspace, round_index: int, previous: ModelRef) -> dict[str, int]:
    """The round's ``distill-data`` stage: the main rows plus the student's kept knowledge (train behaviours)."""
    main_manifest = main.committed(DATA_STAGE)
    config = main_manifest.config
    seed, max_tails = int(config.get("seed", 0)), int(config.get("max_tails", 3))
    settings = {"round": round_index, "max_tails": max_tails, "seed": seed, "previous_student": previous.sha256}
    inputs = [main.table_path(DATA_STAGE, TABLE), "ingest", "generate", "filter"]
    with ws.run(DATA_STAGE, config=settings, inputs=inputs) as run:
        if not run.skipped:
            rows = main.read(DATA_STAGE, TABLE).to_pylist()
            train = {r["behavior_id"] for r in rows if r["split"] == "train" and r["behavior_id"]}
            held = {r["behavior_id"] for r in rows if r["split"] != "train" and r["behavior_id"]}
            behaviors = {b["behavior_id"]: b for b in ws.read("ingest", "behaviors").to_pylist()
                         if b["behavior_id"] in train - held}
            kept = _kept(ws, operating_point.saved(ws))
            relations = workspace_relations(main)
            new = []
            for row in instances.generation(kept, behaviors, max_tails):
                row.update(key=f"round-{round_index}|{row['key']}", split="train", source_stage="filter",
                           label_source=STUDENT_KEPT)
                new.append(phrase(row, seed, relations))
            run.write(TABLE, pa.Table.from_pylist(rows + new, schema=SCHEMA), schema=SCHEMA)
            counts = Counter({f"{t}/{s}": 0 for t in {r["task"] for r in rows} for s in SPLITS})
            for r in rows + new:
                counts[f"{r['task']}/{r['split']}"] += 1
                counts[f"{r['task']}/label_source/{r['label_source']}"] += 1
            run.counts.update(dict(sorted(counts.items())), rows=len(rows) + len(new), student_kept_rows=len(new),
                              student_kept_candidates=len(kept))
            run.models.append(dataclasses.replace(previous, role="teacher"))  # lineage: who wrote these tails
            run.extra["operating_point"] = operating_point.saved(ws).model_dump(mode="json")
    return dict(ws.committed(DATA_STAGE).counts)
