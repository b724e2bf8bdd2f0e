"""``intentkg judge``: the ``judge`` stage of a workspace.

``on="annotated"`` (default) judges the candidates people labelled (``annotate/labels.parquet``)
and reports agreement with them (``judge/agreement.json``): the question it answers is whether a
local judge can stand in for annotators. ``on="candidates"`` judges generated candidates
(``generate/candidates.parquet``), e.g. to fill ``judge_score`` downstream. Either way the output
is ``judge/judgements.parquet``: one row per candidate with score, reason, status and request key.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from intentkg.annotate.stage import EXPORT_STAGE, run_export
from intentkg.errors import ConfigError
from intentkg.generate.request_cache import RequestCache
from intentkg.generate.stage import cache_folder
from intentkg.judge.agreement import human_agreement
from intentkg.judge.judge import JudgeConfig, judge_groups, make_groups
from intentkg.judge.prompt import EXAMPLE_ANSWER
from intentkg.llm import registry
from intentkg.llm.protocol import Backend
from intentkg.progress import bar
from intentkg.workspace import Manifest, Workspace
from intentkg.workspace.manifest import ModelRef

STAGE = "judge"
JUDGEMENTS = pa.schema([
    pa.field("candidate_id", pa.string(), nullable=False), pa.field("group_id", pa.string(), nullable=False),
    pa.field("judge_score", pa.float64()), pa.field("judge_reason", pa.string()),
    pa.field("status", pa.string(), nullable=False), pa.field("attempts", pa.int32(), nullable=False),
    pa.field("request_key", pa.string()), pa.field("error", pa.string()), pa.field("model_id", pa.string()),
])


def _rows(ws: Workspace, on: str, limit: int | None) -> list[dict]:
    if on == "annotated":
        run_export(ws)
        rows = pq.read_table(ws.table_path(EXPORT_STAGE, "labels")).to_pylist()
    elif on == "candidates":
        rows = [r for r in ws.read("generate", "candidates").to_pylist() if r.get("tail")]
    else:
        raise ConfigError(f"--on {on!r}: use annotated or candidates")
    if limit is not None:
        heads = sorted({r["head"] for r in rows})[:limit]
        keep = set(heads)
        rows = [r for r in rows if r["head"] in keep]
    return rows


def copied_example_share(verdicts) -> float | None:
    """Share of scored candidates whose score and reason are exactly an entry of the prompt's worked
    example: a judge that copies the example instead of judging (small models do) shows up here."""
    example = {(e["score"], e["reason"]) for e in EXAMPLE_ANSWER["scores"]}
    scored = [v for v in verdicts if v.score is not None]
    return round(sum((v.score, v.reason) in example for v in scored) / len(scored), 4) if scored else None


def run_judge(workspace: str | Path | Workspace, config: JudgeConfig | None = None, on: str = "annotated",
              limit: int | None = None, force: bool = False, backend: Backend | None = None) -> Manifest:
    """Judge; ``limit`` keeps the first N behaviours (heads) in sorted order. Pass ``backend`` to reuse one."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    config = config or JudgeConfig()
    rows = _rows(ws, on, limit)
    own = backend is None
    if backend is None:
        backend = registry.create(config.backend, model=config.model, **config.options)
    try:
        info = backend.info()
        cfg = dict(config.to_dict(), on=on, limit=limit, model_hash=info.model_hash)
        inputs = [EXPORT_STAGE] if on == "annotated" else ["generate"]
        if on == "annotated" and ws.manifest("critic") is not None:
            inputs.append("critic")  # its predictions are compared with the judge's: a declared input
        with ws.run(STAGE, config=cfg, inputs=inputs, force=force) as run:
            if run.skipped:
                return run.previous  # type: ignore[return-value]
            run.models.append(ModelRef(role="judge", model_id=info.model_id, file=info.path, sha256=info.model_hash))
            groups = make_groups(rows, config.group_size)
            with RequestCache(cache_folder(ws)) as cache, bar(f"judge ({info.model_id})", len(groups),
                                                              unit="groups") as progress:
                if hasattr(backend, "load"):
                    backend.load()
                verdicts, stats = judge_groups(groups, backend, cache, config, progress)
            table = [{"candidate_id": v.candidate_id, "group_id": v.group_id, "judge_score": v.score,
                      "judge_reason": v.reason, "status": v.status, "attempts": v.attempts,
                      "request_key": v.request_key, "error": v.error, "model_id": info.model_id} for v in verdicts]
            run.write("judgements", pa.Table.from_pylist(table, schema=JUDGEMENTS), schema=JUDGEMENTS)
            run.counts.update(stats)
            if on == "annotated":
                critic_path = ws.table_path("critic", "critic_predictions")
                critic = pq.read_table(critic_path).to_pylist() if critic_path.exists() else None
                report = human_agreement([{"candidate_id": v.candidate_id, "group_id": v.group_id, "score": v.score}
                                          for v in verdicts], rows, critic)
                report.update({"model_id": info.model_id, "backend": info.backend, "calls": stats,
                               "copied_example": copied_example_share(verdicts)})
                run.extra["agreement"] = {q: {k: report[q][k] for k in ("n", "roc_auc", "kendall_tau")}
                                          for q in ("plausibility", "typicality")}
                run.write_json("agreement.json", report)
    finally:
        if own:
            backend.close()
    return ws.manifest(STAGE)  # type: ignore[return-value]
