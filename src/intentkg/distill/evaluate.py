"""``intentkg distill eval``: the student against its teacher on the held-out split, per task (stage ``distill-eval``).

    document = run_distill_eval("ws", EvalConfig())   # ws/distill-eval/results.json + task_scores.parquet

Reads ``distill-data/instructions.parquet`` (rows of ``split``, at most ``max_rows`` per task, in a
seeded order), the student (``distill/student.gguf`` by default) and the teacher (the generate
stage's generator). Generation: :mod:`.evaluate_generation`; the yes/no tasks:
:mod:`.evaluate_judgements`. The results name, per task, the metric, the student's and the teacher's
value (and the critic's for plausibility/typicality) and whether the student is worse.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from intentkg import operating_point
from intentkg.distill.evaluate_generation import Checker, student_generation, teacher_generation, teacher_speed
from intentkg.distill.evaluate_judgements import measure, held_out
from intentkg.distill.tasks import TASKS
from intentkg.errors import IntentkgError
from intentkg.workspace import Workspace

STAGE = "distill-eval"
DATA_STAGE, TRAIN_STAGE = "distill-data", "distill"
TABLE = "task_scores"
SCHEMA = pa.schema([("task", pa.string()), ("metric", pa.string()), ("rows", pa.int64()),
                    ("student", pa.float64()), ("teacher", pa.float64()), ("critic", pa.float64()),
                    ("student_worse", pa.bool_())])


class EvalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    student: Path | None = Field(None, description="student GGUF (default: <ws>/distill/student.gguf)")
    teacher: str | None = Field(None, description="teacher GGUF or bundled alias (default: the generate stage's)")
    tasks: list[str] = Field(default_factory=lambda: list(TASKS))
    split: Literal["test", "dev", "held-out"] = Field(
        "test", description="held-out split of distill-data: test, dev, or held-out (both)")
    max_rows: int = Field(60, ge=1, description="held-out rows per task (seeded sample)")
    n_threads: int | None = Field(None, ge=1, description="llama.cpp threads")
    teacher_judgements: bool = Field(True, description="also ask the teacher the yes/no tasks")
    compare: bool = Field(True, description="measure the teacher too (false: the student alone, as a self-imitation "
                                            "round's measure needs)")
    seed: int = 0


def _sample(rows: list[dict], n: int, seed: int) -> list[dict]:
    ranked = sorted(rows, key=lambda r: hashlib.sha256(f"{seed}\x1f{r['row_id']}".encode()).hexdigest())
    return ranked[:n]


def teacher_model(ws: Workspace, given: str | None) -> str:
    if given:
        return given
    manifest = ws.committed("generate")
    ref = next((m for m in (manifest.models if manifest else []) if m.role == "generator"), None)
    if ref is None or not ref.file:
        raise IntentkgError(f"distill eval: workspace {ws.root} records no generator file in its generate stage; "
                            f"give the teacher with --teacher")
    path = Path(ref.file)
    return str(path if path.is_absolute() else ws.root / path)


def _checker(ws: Workspace, behaviors: dict[str, dict], n_threads: int | None = None) -> tuple[Checker, float | None]:
    """The workspace filter's rules and critic (its critic folder, or the student critic it ran with)."""
    from intentkg.filter.config import FilterConfig
    from intentkg.filter.critic import Critic
    from intentkg.filter.rules import RuleChecker

    config = FilterConfig.model_validate({k: v for k, v in ws.stage_config("filter").items()
                                          if k in FilterConfig.model_fields})
    point = operating_point.saved(ws)
    critic = None
    if config.critic.path is not None and Path(config.critic.path).exists():
        critic = Critic(config.critic.path)
    elif config.critic.student is not None:
        from intentkg.filter.student_critic import StudentCritic
        from intentkg.generate.relations import workspace_relations

        critic = StudentCritic(config.critic.student, tasks=("plausibility",),
                               n_threads=config.critic.student_threads or n_threads,
                               relations=workspace_relations(ws))
    return Checker(RuleChecker(config.rules), critic, point.min_plausibility, behaviors), point.min_plausibility


def _worse(task: dict[str, Any]) -> bool | None:
    if task.get("student") is None or task.get("teacher") is None:
        return None
    return task["student"] < task["teacher"]


def evaluate(ws: Workspace, config: EvalConfig, student_path: Path, teacher: str | None) -> dict[str, Any]:
    from intentkg.llm.llama_cpp import LlamaCppBackend
    from intentkg.llm.yes_no import YesNoScorer

    splits = ("dev", "test") if config.split == "held-out" else (config.split,)
    rows = [r for r in ws.read(DATA_STAGE, "instructions").to_pylist() if r["split"] in splits]
    scores = {s["candidate_id"]: s for s in ws.read("filter", "scores").to_pylist()} \
        if ws.manifest("filter") else {}
    behaviors = {b["behavior_id"]: b for b in ws.read("ingest", "behaviors").to_pylist()}
    tasks: list[dict[str, Any]] = []
    speed: dict[str, Any] = {}
    judged = [t for t in config.tasks if t != "generation"]
    if "generation" in config.tasks and any(r["task"] == "generation" for r in rows):
        chosen = _sample([r for r in rows if r["task"] == "generation"], config.max_rows, config.seed)
        checker, threshold = _checker(ws, behaviors, config.n_threads)
        student = LlamaCppBackend(model=str(student_path), n_threads=config.n_threads, parallel=1)
        try:
            mine = student_generation(student, chosen, checker)
        finally:
            student.close()
            checker.close()
        theirs: dict[str, Any] = {"critic_pass": None}
        speed = {"student": mine.pop("speed")}
        if config.compare:
            theirs = teacher_generation(chosen, ws.read("generate", "candidates").to_pylist(), scores, threshold)
            teacher_backend = LlamaCppBackend(model=teacher, n_threads=config.n_threads, parallel=1)
            try:
                speed["teacher"] = teacher_speed(teacher_backend, chosen, chat=teacher_backend.info().chat)
            finally:
                teacher_backend.close()
            t_rate, s_rate = speed["teacher"].get("tokens_per_second"), speed["student"].get("tokens_per_second")
            speed["student_over_teacher"] = round(s_rate / t_rate, 3) if s_rate and t_rate else None
        tasks.append({"task": "generation", "metric": "critic_pass", "rows": len(chosen),
                      "student": mine["critic_pass"], "teacher": theirs["critic_pass"], "critic": None,
                      "detail": {"student": mine, "teacher": theirs}})
    if judged:
        student = YesNoScorer(student_path, n_threads=config.n_threads)
        teacher_scorer = YesNoScorer(teacher, n_threads=config.n_threads) \
            if config.teacher_judgements and config.compare else None
        try:
            for task in judged:
                chosen = _sample(held_out(rows, task), config.max_rows, config.seed)
                tasks.append(measure(task, chosen, student, teacher_scorer, scores))
        finally:
            student.close()
            if teacher_scorer is not None:
                teacher_scorer.close()
    for task in tasks:
        task["student_worse"] = _worse(task)
    return {"split": config.split, "student": str(student_path), "teacher": teacher, "tasks": tasks,
            "tokens_per_second": speed}


def run_distill_eval(workspace: str | Path | Workspace, config: EvalConfig | None = None,
                     force: bool = False) -> dict[str, Any]:
    import json

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    config = config or EvalConfig()
    if ws.manifest(DATA_STAGE) is None:
        raise IntentkgError(f"distill eval: workspace {ws.root} has no {DATA_STAGE!r} stage: run "
                            f"`intentkg distill data -w {ws.root}` and `intentkg distill train` first")
    student = config.student or ws.stage_dir(TRAIN_STAGE) / "student.gguf"
    if not Path(student).is_file():
        raise IntentkgError(f"distill eval: no student at {student}: run `intentkg distill train -w {ws.root}` "
                            f"or give --student")
    if config.student is None:
        from intentkg.distill.lineage import ensure_recorded

        ensure_recorded(ws, TRAIN_STAGE)  # the student's lineage (and its shared-family warning) before its scores
    teacher = teacher_model(ws, config.teacher) if config.compare or config.teacher else None  # None: not asked
    inputs = [DATA_STAGE, "generate", student] + (["filter"] if ws.manifest("filter") else [])
    settings = {**config.model_dump(mode="json"), "teacher": teacher}
    with ws.run(STAGE, config=settings, inputs=inputs, force=force) as run:
        if not run.skipped:
            with run.time("evaluate"):
                document = evaluate(ws, config, Path(student), teacher)
            run.write_json("results.json", document)
            run.write(TABLE, pa.Table.from_pylist([{k: t.get(k) for k in SCHEMA.names} for t in document["tasks"]],
                                                  schema=SCHEMA), schema=SCHEMA)
            run.counts.update({t["task"]: t.get("rows") for t in document["tasks"]})
            run.add_model("student", "student", student)
            if teacher is not None:
                run.add_model("teacher", teacher, teacher if Path(teacher).is_file() else None)
    return json.loads(ws.output_path(STAGE, "results.json").read_text(encoding="utf-8"))
