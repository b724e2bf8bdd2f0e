"""Self-imitation rounds (I2D2): the smallest real run on the session's trained student (one round: SmolLM2
through llama.cpp generates, the bundled SmolLM2 judges as the filter's critic, one LoRA step), and the stop
rule on hand-made measures (what happens over several rounds)."""

from __future__ import annotations

import json

import pytest
from helpers.student import EVAL, RULES_ONLY, TINY

from intentkg.distill.evaluate import EvalConfig
from intentkg.distill.rounds import RESULT, STAGE, RoundsConfig, decide, run_distill_rounds
from intentkg.distill.train import GGUF, TrainConfig
from intentkg.errors import IntentkgError
from intentkg.llm import bundled
from intentkg.llm.model_files import file_hash
from intentkg.workspace import Workspace

GENERATE = {"relations": ["used_for_event"], "selection": {"limit": 3}, "sampling": {"max_tokens": 24},
            "backend": {"options": {"n_threads": 1, "n_ctx": 1024}}}


def test_a_round_that_improves_goes_on_and_the_best_is_the_latest():
    assert decide([0.50, 0.60]) == {"stop": False, "best": 1, "reason": decide([0.50, 0.60])["reason"]}
    assert "0.5000 (round 0) -> 0.6000" in decide([0.50, 0.60])["reason"]


def test_a_round_that_does_not_improve_stops_and_keeps_the_best_earlier_round():
    out = decide([0.50, 0.62, 0.61])
    assert out["stop"] and out["best"] == 1 and "stopped improving" in out["reason"]
    assert decide([0.50, 0.50])["stop"] and decide([0.50, 0.50])["best"] == 0  # equal is not better
    assert decide([0.50, None]) ["stop"]  # a round with no measure is no improvement
    assert decide([0.50, 0.505], min_improvement=0.01)["stop"]  # below the required margin
    assert not decide([0.50, 0.52], min_improvement=0.01)["stop"]
    assert decide([0.4, 0.6, 0.6, 0.6])["best"] == 1  # the earliest of equal measures


def test_over_several_rounds_the_first_non_improvement_stops_them():
    measures = [0.41, 0.45, 0.47, 0.46, 0.52]  # round 4 would have improved, but round 3 already stopped
    decisions = [decide(measures[:k + 1]) for k in range(1, len(measures))]
    assert [d["stop"] for d in decisions[:3]] == [False, False, True]
    assert decisions[2]["best"] == 2 and "round 2's 0.4700 student is kept" not in decisions[2]["reason"]
    assert "stopped after round 3, round 2's student is kept" in decisions[2]["reason"]


def test_without_a_round_0_measure_the_rounds_cannot_judge():
    with pytest.raises(IntentkgError, match="round 0 has no held-out measure"):
        decide([None, 0.3])


def test_a_workspace_without_a_critic_is_refused_before_training(tmp_path):
    from helpers.kg_workspace import make_workspace
    from typer.testing import CliRunner

    from intentkg.cli.main import cli

    ws = make_workspace(tmp_path, critic=False)  # its filter ran with no critic
    result = CliRunner().invoke(cli, ["distill", "train", "-w", str(ws.root), "--base", bundled.SMOLLM2,
                                      "--max-steps", "1", "--rounds", "1"])
    assert isinstance(result.exception, IntentkgError), result.output
    message = str(result.exception)
    assert "has no critic" in message and "intentkg train-critic" in message and "--critic-student" in message
    assert "\n" not in message  # one line
    assert ws.manifest("distill") is None  # refused before the first student was trained, not after


def test_the_rounds_refuse_a_student_workspace_without_a_critic(student):
    ws = student["ws"]  # the session student's teacher knowledge was filtered by the rules alone
    before = ws.committed(STAGE)
    with pytest.raises(IntentkgError, match="has no critic"):
        run_distill_rounds(ws, RoundsConfig(rounds=1, train=TrainConfig(**TINY)))
    assert ws.committed(STAGE) == before  # no round ran
    critic = {**RULES_ONLY, "critic": {"student": str(bundled.smollm2_path())}}
    from intentkg.distill.rounds import require_critic

    require_critic(ws, critic)  # a critic given for the rounds is enough


@pytest.fixture(scope="module")
def rounds(student, evaluated, convert_script):
    ws = student["ws"]
    config = RoundsConfig(rounds=1, steps=1, train=TrainConfig(**TINY, convert_script=str(convert_script)),
                          evaluation=EvalConfig(**EVAL), generate=GENERATE,
                          filter={**RULES_ONLY, "critic": {"student": str(bundled.smollm2_path()),
                                                           "student_threads": 1}})
    return ws, config, run_distill_rounds(ws, config)


def test_each_round_generates_with_the_previous_student_and_trains_on_what_the_critic_kept(rounds):
    ws, config, summary = rounds
    main_rows = ws.read("distill-data", "instructions").to_pylist()
    train_behaviors = {r["behavior_id"] for r in main_rows if r["split"] == "train"}
    previous = ws.stage_dir("distill") / GGUF
    for entry in summary["rounds"][1:]:
        folder = Workspace(ws.stage_dir(STAGE) / f"round-{entry['round']}")
        generator = next(m for m in folder.committed("generate").models if m.role == "generator")
        assert generator.sha256 == file_hash(previous)  # the student of the round before generated
        scores = {s["candidate_id"]: s for s in folder.read("filter", "scores").to_pylist()}
        assert {s["critic_id"] for s in scores.values()} == {f"student:{bundled.smollm2_path().stem}@"
                                                              f"{file_hash(bundled.smollm2_path())[:12]}"}
        passed = {(c["behavior_id"], c["tail"].strip().lower()) for c in folder.read("generate", "candidates").to_pylist()
                  if c["candidate_id"] in scores and scores[c["candidate_id"]]["plausibility"] >= 0.5
                  and not scores[c["candidate_id"]]["rule_flags"]}
        rows = folder.read("distill-data", "instructions").to_pylist()
        mine = [r for r in rows if r["label_source"] == "student_kept"]
        assert len(mine) == entry["student_kept_rows"]
        for row in mine:  # only knowledge the critic passed, only for train behaviours, trained on
            assert row["split"] == "train" and row["behavior_id"] in train_behaviors
            for line in row["completion"].splitlines():
                assert (row["behavior_id"], line.split(".", 1)[1].strip().lower()) in passed
        # the held-out rows are the main workspace's, unchanged: every round is measured on the same rows
        held = sorted(r["row_id"] for r in rows if r["split"] != "train")
        assert held == sorted(r["row_id"] for r in main_rows if r["split"] != "train")
        train = folder.committed("distill")
        assert train.counts["steps"] == 1 and train.config["base"].endswith("merged")
        student = folder.stage_dir("distill") / GGUF
        assert file_hash(student) != file_hash(previous)  # a new student
        previous = student


def test_the_rounds_stop_as_the_held_out_measures_say_and_say_so(rounds):
    ws, config, summary = rounds
    measures = []
    for entry in summary["rounds"]:
        where = ws if entry["round"] == 0 else Workspace(ws.stage_dir(STAGE) / f"round-{entry['round']}")
        document = json.loads((where.stage_dir("distill-eval") / "results.json").read_text())
        values = [t["student"] for t in document["tasks"] if t["student"] is not None]
        assert entry["measure"] == pytest.approx(sum(values) / len(values), abs=1e-4)
        measures.append(entry["measure"])
    # by hand: one round was asked for; it stops (and round 0 is kept) unless round 1 beat round 0
    assert len(measures) == 2
    improved = measures[1] > measures[0]
    best = 1 if improved else 0
    assert summary["best_round"] == best and summary["stopped"] == (not improved)
    assert ("stopped improving" in summary["reason"]) == (not improved)
    assert ("still improving" in summary["reason"]) == improved
    manifest = ws.committed(STAGE)
    assert manifest.extra["rounds"] == summary == json.loads((ws.stage_dir(STAGE) / RESULT).read_text())
    for entry in summary["rounds"]:  # every student's lineage names the rounds and which one was kept
        where = ws if entry["round"] == 0 else Workspace(ws.stage_dir(STAGE) / f"round-{entry['round']}")
        record = json.loads((where.stage_dir("distill") / "intentkg_lineage.json").read_text())
        assert [(r["round"], r["kept"]) for r in record["rounds"]] == \
            [(e["round"], e["round"] == best) for e in summary["rounds"]]
    round_1 = json.loads((ws.stage_dir(STAGE) / "round-1" / "distill" / "intentkg_lineage.json").read_text())
    assert round_1["teacher"]["sha256"] == file_hash(ws.stage_dir("distill") / GGUF)  # round 0's student taught


def test_a_rerun_resumes_from_the_recorded_steps(rounds):
    ws, config, summary = rounds
    folder = Workspace(ws.stage_dir(STAGE) / "round-1")
    stages = ("ingest", "generate", "filter", "distill-data", "distill", "distill-eval")
    before = {s: folder.committed(s).finished_at for s in stages}
    again = run_distill_rounds(ws, config, force=True)  # the rounds stage runs again; every round's step is kept
    assert {s: folder.committed(s).finished_at for s in stages} == before
    assert [e["measure"] for e in again["rounds"]] == [e["measure"] for e in summary["rounds"]]
