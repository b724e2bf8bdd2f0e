"""The filter's critic step with a GGUF student's yes/no answers: the session's trained student
(helpers/student_fixtures.py: SmolLM2 + a LoRA trained by `distill train`, merged and written as GGUF)."""

import json

import pyarrow.parquet as pq
import pytest
from helpers.kg_workspace import make_workspace
from helpers.student import RULES_ONLY
from typer.testing import CliRunner

from intentkg.cli.main import cli
from intentkg.critic.yes_no_prompt import judgement_messages
from intentkg.errors import ConfigError
from intentkg.filter import FilterConfig, run_filter
from intentkg.generate.relations import load_schema
from intentkg.llm import bundled
from intentkg.llm.model_files import file_hash


def test_the_student_scores_plausibility_and_typicality_and_is_the_recorded_critic(student, tmp_path, monkeypatch):
    from intentkg.distill.data import run_distill_data
    from intentkg.llm.yes_no import YesNoScorer

    asked: dict[str, float] = {}  # every question the filter put to the student -> P(yes)
    probability = YesNoScorer.probability

    def recording(self, messages):
        asked[json.dumps(messages)] = value = probability(self, messages)
        return value

    monkeypatch.setattr(YesNoScorer, "probability", recording)
    ws = make_workspace(tmp_path, critic=False)
    result = CliRunner().invoke(cli, ["filter", "-w", str(ws.root), "--critic-student", str(student["gguf"]),
                                      "--no-similarity", "--no-semantic-dedup", "--completeness", "none"])
    assert result.exit_code == 0, result.output
    scores = pq.read_table(ws.root / "filter" / "scores.parquet").to_pylist()
    # one question, one home: the student's training rows in phrasing 0 ask exactly what the filter asked
    # it (old code: the critic asked "Shopping behaviour: <head>" in words no training row used)
    run_distill_data(ws)
    rows = [r for r in ws.read("distill-data", "instructions").to_pylist()
            if r["task"] in ("plausibility", "typicality") and r["label_source"] == "critic"]
    first = [r for r in rows if r["template_id"] in ("plaus_claim", "typ_claim")]
    assert first, [r["template_id"] for r in rows]
    by_id = {s["candidate_id"]: s for s in scores}
    for row in first:
        question = json.dumps([dict(m) for m in row["prompt"]])
        assert question in asked, (question, list(asked)[:2])
        assert by_id[row["source_ids"][0]][row["task"]] == round(asked[question], 4)
    digest = file_hash(student["gguf"])
    assert digest != file_hash(bundled.smollm2_path())  # the trained student, not its base
    assert {s["critic_id"] for s in scores} == {f"student:student@{digest[:12]}"}
    for task in ("plausibility", "typicality"):
        values = [s[task] for s in scores]
        assert all(0 < v < 1 for v in values) and len(set(values)) > 3  # real, differing probabilities
    critic = [m for m in ws.committed("filter").models if m.role == "critic"]
    assert [m.sha256 for m in critic] == [digest]
    # distill eval's generation check asks the critic the filter ran with, as the filter asked it (old code:
    # only a critic folder counted, so every rule-passing tail of such a workspace "passed the critic")
    from intentkg.distill.evaluate import _checker

    checker, threshold = _checker(ws, {b["behavior_id"]: b for b in ws.read("ingest", "behaviors").to_pylist()}, 1)
    try:
        assert checker.critic is not None and checker.checked_by.startswith(f"student:student@{digest[:12]}")
        candidates = {c["candidate_id"]: c for c in ws.read("generate", "candidates").to_pylist()}
        for score in scores[:6]:
            c = candidates[score["candidate_id"]]
            (_, _, passed), = checker.check({"behavior_id": c["behavior_id"], "relation": c["relation"]}, [c["tail"]])
            assert passed == (score["plausibility"] >= threshold), (c, score)
    finally:
        checker.close()


def test_the_same_candidate_text_gets_the_same_score_and_phrasings_differ(student):
    from intentkg.filter.student_critic import StudentCritic

    critic = StudentCritic(student["gguf"], tasks=("plausibility",), n_threads=1)
    out = critic.score(["tent + mat", "tent  + mat", "lotion + swaddle"], ["used_for_event"] * 3,
                       ["winter camping", "winter  camping", "winter camping"])["plausibility"]
    critic.close()
    assert out[0] == out[1] and out[0] != out[2]
    relation = load_schema().relations["used_for_event"]
    variants = {judgement_messages("plausibility", "A customer bought a tent.", relation, relation.name, "co_buy", "x",
                                   v)[-1]["content"] for v in range(3)}
    assert len(variants) == 3 and all("A customer bought a tent." in v and "x" in v for v in variants)


def test_one_critic_at_a_time(tmp_path):
    ws = make_workspace(tmp_path, critic=False)
    config = FilterConfig.model_validate({**RULES_ONLY, "critic": {"path": str(tmp_path), "student": bundled.SMOLLM2}})
    with pytest.raises(ConfigError, match="give one critic"):
        run_filter(ws, config, quiet=True)
