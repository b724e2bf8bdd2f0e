"""The judge stage on annotated candidates: judgements table, agreement report, skip, report section."""

from __future__ import annotations

import json
import re

import pyarrow.parquet as pq

from intentkg.llm.protocol import Completion, ModelInfo, Result


class KeywordJudge:
    """A stand-in judge that scores by a visible rule (used to check the plumbing, not a model's skill):
    1 when the tail shares a word with the behaviour, else 0."""

    name, preferred_batch_size = "keyword", 4

    def __init__(self):
        self.calls = 0

    def info(self):
        return ModelInfo("keyword", "keyword-judge", "kw1", True)

    def generate(self, requests):
        out = []
        for r in requests:
            self.calls += 1
            text = r.messages[1]["content"].split("Now this one:")[1]
            behaviour = set(re.findall(r"[a-z]+", text.splitlines()[1].lower()))
            scores = []
            for line in text.splitlines():
                m = re.match(r"(\d+)\. (.*)", line)
                if m:
                    words = set(re.findall(r"[a-z]{4,}", m.group(2).lower()))
                    scores.append({"id": int(m.group(1)), "score": 1.0 if words & behaviour else 0.0, "reason": "kw"})
            out.append(Result(r.key, [Completion(json.dumps({"scores": scores}))]))
        return out

    def close(self):
        pass


def test_judge_stage_measures_against_people(tmp_path):
    from intentkg.annotate.formats import import_file
    from intentkg.annotate.store import Store
    from intentkg.demo_data import demo_path
    from intentkg.judge.judge import JudgeConfig
    from intentkg.judge.stage import run_judge
    from intentkg.report.build import build_report

    subset = tmp_path / "subset.jsonl"
    subset.write_text("".join(demo_path("annotated_candidates.jsonl").read_text().splitlines(True)[:120]))
    import_file(Store.for_workspace(tmp_path / "ws"), subset)
    backend = KeywordJudge()
    manifest = run_judge(tmp_path / "ws", JudgeConfig(), backend=backend)
    table = pq.read_table(tmp_path / "ws" / "judge" / "judgements.parquet").to_pylist()
    assert len(table) == 60 and all(r["status"] == "ok" and r["judge_score"] in (0.0, 1.0) for r in table)
    report = json.loads((tmp_path / "ws" / "judge" / "agreement.json").read_text())
    assert report["plausibility"]["n"] > 40 and report["plausibility"]["roc_auc"] is not None
    assert report["model_id"] == "keyword-judge" and manifest.models[0].role == "judge"
    assert report["copied_example"] == 0.0
    calls = backend.calls
    run_judge(tmp_path / "ws", JudgeConfig(), backend=backend)
    assert backend.calls == calls  # unchanged inputs and config: skipped
    html = build_report(tmp_path / "ws").read_text()
    assert 'id="judge"' in html and "Kendall" in html


def test_copying_the_worked_example_is_measured():
    from intentkg.judge.judge import Verdict
    from intentkg.judge.stage import copied_example_share

    verdicts = [Verdict("a", "g", 0.9, "typical use", "ok", 1, "k"), Verdict("b", "g", 0.9, "fits the trip", "ok", 1, "k"),
                Verdict("c", "g", None, None, "failed", 3, None)]
    assert copied_example_share(verdicts) == 0.5 and copied_example_share([]) is None
