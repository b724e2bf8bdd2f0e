"""Self-imitation rounds (I2D2): the student generates, the critic filters, the student retrains on what passed.

    summary = run_distill_rounds("ws", RoundsConfig(rounds=2, train=TrainConfig(base="smollm2-135m-instruct")))

Round 0 is the workspace's own student (stage ``distill``, from ``intentkg distill train``), measured
by ``intentkg distill eval`` (stage ``distill-eval``). Round k = 1..K runs in its own workspace,
``<ws>/distill-rounds/round-<k>/`` (:mod:`.round_workspace`): generate with round k-1's student,
filter with the workspace's critic at its operating point (a workspace whose filter has no critic is
refused: :func:`require_critic`), rebuild the instruction data with what
passed, ``distill train`` continued from round k-1's merged model (``steps`` optimizer steps), and
``distill eval`` of the student alone on the same held-out rows with the same settings as round 0.
Every step is a stage of that workspace: recorded, and skipped when a killed run is started again.

The held-out measure of a round is the mean, over the measured tasks, of the student's value
(critic pass rate, ROC-AUC, macro-F1, each in [0, 1]). The rounds stop at the first round whose
measure does not beat the best earlier one by more than ``min_improvement`` (:func:`decide`); the
best round's student is the result. The decision is printed, stored in stage ``distill-rounds``
(``rounds.json``, manifest ``extra.rounds``) and in every round student's lineage record (``rounds``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from intentkg.distill.evaluate import EvalConfig, run_distill_eval
from intentkg.distill.train import GGUF, STAGE as TRAIN_STAGE, TrainConfig, run_distill_train
from intentkg.errors import IntentkgError
from intentkg.progress import console
from intentkg.workspace import Workspace
from intentkg.workspace.manifest import ModelRef

STAGE = "distill-rounds"
RESULT = "rounds.json"


class RoundsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rounds: int = Field(..., ge=1, le=20, description="self-imitation rounds after the first student")
    train: TrainConfig = Field(..., description="the first student's training settings; each round reuses them")
    steps: int | None = Field(None, ge=1, description="optimizer steps per round (None: train.max_steps)")
    evaluation: EvalConfig = Field(default_factory=EvalConfig, description="the held-out measure of every round")
    generate: dict[str, Any] = Field(default_factory=dict, description="overrides of the workspace's generate "
                                                                       "settings for the student's generation")
    filter: dict[str, Any] | None = Field(None, description="filter settings of the rounds (None: the workspace's)")
    min_improvement: float = Field(0.0, ge=0, description="a round must beat the best earlier measure by more")


def require_critic(ws: Workspace, filter_settings: dict[str, Any] | None) -> None:
    """The rounds filter the student's knowledge with a critic (I2D2); without one, say what to do."""
    from intentkg.distill.round_workspace import filter_config

    critic = filter_config(ws, filter_settings).critic
    if critic.path is None and critic.student is None:
        raise IntentkgError(
            f"distill train --rounds: the filter of workspace {ws.root} has no critic, so a round would train the "
            f"student on its own knowledge checked by the rules alone: give it one (`intentkg train-critic -w "
            f"{ws.root}` then `intentkg filter -w {ws.root} --critic {ws.root}/critic`, or `intentkg filter -w "
            f"{ws.root} --critic-student FILE.gguf`) and run --rounds again")


def measure_of(document: dict[str, Any]) -> float | None:
    """A round's held-out measure: the mean of the student's per-task values (None when no task has one)."""
    values = [t["student"] for t in document["tasks"] if t.get("student") is not None]
    return round(sum(values) / len(values), 4) if values else None


def decide(measures: list[float | None], min_improvement: float = 0.0) -> dict[str, Any]:
    """After round k = len(measures) - 1 (k >= 1): stop or go on, the best round so far, and why."""
    if len(measures) < 2:
        raise ValueError("decide() needs the measures of round 0 and at least one round after it")
    earlier = [(m, i) for i, m in enumerate(measures[:-1]) if m is not None]
    if not earlier:
        raise IntentkgError("distill rounds: round 0 has no held-out measure (no task gave the student a value); "
                            "measure more held-out rows (--round-eval-rows) or other tasks")
    best_value, best = max(earlier, key=lambda e: (e[0], -e[1]))  # the earliest of equal measures
    k, latest = len(measures) - 1, measures[-1]
    if latest is not None and latest > best_value + min_improvement:
        return {"stop": False, "best": k, "reason": f"round {k} improved the held-out measure: {best_value:.4f} "
                                                     f"(round {best}) -> {latest:.4f}"}
    shown = "none" if latest is None else f"{latest:.4f}"
    return {"stop": True, "best": best,
            "reason": f"the held-out measure stopped improving: round {k} gave {shown}, not more than "
                      f"{min_improvement:g} above round {best}'s {best_value:.4f}; stopped after round {k}, "
                      f"round {best}'s student is kept"}


def _entry(ws: Workspace, round_index: int, folder: Workspace, document: dict[str, Any],
           data_counts: dict[str, Any] | None) -> dict[str, Any]:
    from intentkg.llm.model_files import file_hash

    student = folder.stage_dir(TRAIN_STAGE) / GGUF
    train = folder.committed(TRAIN_STAGE)
    return {"round": round_index, "student": ws.stored(student), "student_sha256": file_hash(student),
            "measure": measure_of(document), "tasks": {t["task"]: t.get("student") for t in document["tasks"]},
            "steps": train.counts.get("steps") if train else None,
            "student_kept_rows": (data_counts or {}).get("student_kept_rows"),
            "train_rows": (train.counts.get("train_rows") if train else None)}


def _one_round(ws: Workspace, config: RoundsConfig, k: int, previous: Workspace, teacher: ModelRef) -> tuple:
    from intentkg.distill.round_workspace import build_round_data, generate_and_filter

    folder = Workspace(ws.stage_dir(STAGE) / f"round-{k}")
    student = previous.stage_dir(TRAIN_STAGE) / GGUF
    console.print(f"distill rounds: round {k}: the student of round {k - 1} generates ({student})", highlight=False)
    generate_and_filter(ws, folder, student, config.generate, config.filter)
    counts = build_round_data(ws, folder, k, teacher)
    update: dict[str, Any] = {"base": str(previous.stage_dir(TRAIN_STAGE) / "merged")}
    if config.steps is not None:
        update["max_steps"] = config.steps
    run_distill_train(folder, config.train.model_copy(update=update))
    document = run_distill_eval(folder, config.evaluation.model_copy(
        update={"student": None, "teacher": str(student), "compare": False}))
    return folder, document, counts


def run_distill_rounds(workspace: str | Path | Workspace, config: RoundsConfig, force: bool = False) -> dict[str, Any]:
    """Run (or resume) the rounds; the summary that ``rounds.json`` holds."""
    import json

    from intentkg.distill.lineage import record_student
    from intentkg.llm.model_files import file_hash

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    first = ws.stage_dir(TRAIN_STAGE) / GGUF
    if ws.committed(TRAIN_STAGE) is None or not first.is_file():
        raise IntentkgError(f"distill rounds: workspace {ws.root} has no trained student ({first}): run "
                            f"`intentkg distill train -w {ws.root} --base ...` first")
    require_critic(ws, config.filter)
    settings = config.model_dump(mode="json")
    settings["train"].pop("convert_script", None)  # where the converter lives does not change a student
    with ws.run(STAGE, config=settings, inputs=["distill-data", first]) as run:
        if run.skipped:
            return json.loads(ws.output_path(STAGE, RESULT).read_text(encoding="utf-8"))
        with run.time("round-0"):
            document = run_distill_eval(ws, config.evaluation)
        entries = [_entry(ws, 0, ws, document, None)]
        measures = [entries[0]["measure"]]
        previous, decision = ws, None
        for k in range(1, config.rounds + 1):
            teacher = ModelRef(role="generator", model_id=f"student of round {k - 1}",
                               file=str(previous.stage_dir(TRAIN_STAGE) / GGUF),
                               sha256=file_hash(previous.stage_dir(TRAIN_STAGE) / GGUF))
            with run.time(f"round-{k}"):
                folder, document, counts = _one_round(ws, config, k, previous, teacher)
            entries.append(_entry(ws, k, folder, document, counts))
            measures.append(entries[-1]["measure"])
            decision = decide(measures, config.min_improvement)
            console.print(f"distill rounds: round {k}: held-out measure {measures[-1]} (round 0: {measures[0]}); "
                          f"{decision['reason']}", highlight=False)
            previous = folder
            if decision["stop"]:
                break
        if decision is not None and not decision["stop"]:
            decision["reason"] = (f"ran all {config.rounds} rounds and the held-out measure was still improving at "
                                  f"round {config.rounds}; its student is kept")
        best = entries[decision["best"]]
        summary = {"rounds": entries, "stopped": decision["stop"], "reason": decision["reason"],
                   "best_round": best["round"], "best_student": best["student"], "measure": "mean over tasks of "
                   "the student's held-out value (critic pass, ROC-AUC, macro-F1)", "min_improvement":
                   config.min_improvement}
        run.write_json(RESULT, summary)
        run.counts.update(rounds_run=len(entries) - 1, best_round=best["round"], stopped=decision["stop"])
        run.extra["rounds"] = summary
    console.print(f"distill rounds: {summary['reason']}\nbest student: {ws.root / best['student']}", highlight=False)
    lineage = [{k: v for k, v in e.items() if k != "tasks"} | {"kept": e["round"] == best["round"]}
               for e in entries]
    for entry in entries:
        target = ws if entry["round"] == 0 else Workspace(ws.stage_dir(STAGE) / f"round-{entry['round']}")
        record_student(target, TRAIN_STAGE, rounds=lineage, quiet=True)
    return summary
