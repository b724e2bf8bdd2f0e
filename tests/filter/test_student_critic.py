"""The filter's critic step with a GGUF student's yes/no answers (the bundled SmolLM2 as the student)."""

import pyarrow.parquet as pq
import pytest
from helpers.kg_workspace import make_workspace
from typer.testing import CliRunner

from intentkg.cli.main import cli
from intentkg.critic.yes_no_prompt import judgement_messages
from intentkg.errors import ConfigError
from intentkg.filter import FilterConfig, run_filter
from intentkg.llm import bundled
from intentkg.llm.model_files import file_hash

QUICK = {"similarity": {"enabled": False}, "dedup": {"semantic": False}, "completeness": {"scorer": "none"}}


def test_the_student_scores_plausibility_and_typicality_and_is_the_recorded_critic(tmp_path):
    ws = make_workspace(tmp_path, critic=False)
    result = CliRunner().invoke(cli, ["filter", "-w", str(ws.root), "--critic-student", bundled.SMOLLM2,
                                      "--no-similarity", "--no-semantic-dedup", "--completeness", "none"])
    assert result.exit_code == 0, result.output
    scores = pq.read_table(ws.root / "filter" / "scores.parquet").to_pylist()
    digest = file_hash(bundled.smollm2_path())
    assert {s["critic_id"] for s in scores} == {f"student:{bundled.smollm2_path().stem}@{digest[:12]}"}
    for task in ("plausibility", "typicality"):
        values = [s[task] for s in scores]
        assert all(0 < v < 1 for v in values) and len(set(values)) > 3  # real, differing probabilities
    critic = [m for m in ws.committed("filter").models if m.role == "critic"]
    assert [m.sha256 for m in critic] == [digest]


def test_the_same_candidate_text_gets_the_same_score_and_phrasings_differ(tmp_path):
    from intentkg.filter.student_critic import StudentCritic

    critic = StudentCritic(bundled.SMOLLM2, tasks=("plausibility",), n_threads=1)
    out = critic.score(["tent + mat", "tent  + mat", "lotion + swaddle"], ["used_for_event"] * 3,
                       ["winter camping", "winter  camping", "winter camping"])["plausibility"]
    critic.close()
    assert out[0] == out[1] and out[0] != out[2]
    variants = {judgement_messages("plausibility", "a + b", "used_for_event", "x", v)[1]["content"] for v in range(3)}
    assert len(variants) == 3 and all("used for event" in v for v in variants)


def test_one_critic_at_a_time(tmp_path):
    ws = make_workspace(tmp_path, critic=False)
    config = FilterConfig.model_validate({**QUICK, "critic": {"path": str(tmp_path), "student": bundled.SMOLLM2}})
    with pytest.raises(ConfigError, match="give one critic"):
        run_filter(ws, config, quiet=True)
