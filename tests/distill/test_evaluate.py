"""distill eval on a real workspace: the session's trained student (SmolLM2 + a 2-step LoRA) against a
teacher (the bundled SmolLM2), both through llama.cpp, on the held-out yes/no rows."""

import json

import pyarrow.parquet as pq
from helpers.student import linked_copy

from intentkg.report.registry import ReportContext
from intentkg.workspace import Workspace

TASKS = ["search_relevance", "co_purchase"]  # the 3-behaviour workspace has no held-out generation row
# (the generation task is measured in the demo's distil step; see docs/distill.md)


def test_each_task_has_the_student_and_the_teacher_and_says_which_is_worse(evaluated):
    root, document = evaluated
    by_task = {t["task"]: t for t in document["tasks"]}
    assert set(by_task) == set(TASKS)
    assert by_task["search_relevance"]["metric"] == "macro_f1" and by_task["co_purchase"]["metric"] == "roc_auc"
    for task in by_task.values():
        assert task["rows"] > 0
        for who in ("student", "teacher"):
            assert task[who] is None or 0.0 <= task[who] <= 1.0
        if task["student"] is not None and task["teacher"] is not None:
            assert task["student_worse"] == (task["student"] < task["teacher"])
        assert task[f"student_seconds"] > 0 and task["teacher_seconds"] > 0  # both models were asked


def test_results_are_a_committed_stage_that_records_both_models(evaluated):
    root, document = evaluated
    ws = Workspace(root)
    manifest = ws.committed("distill-eval")
    assert {m.role for m in manifest.models} == {"student", "teacher"}
    assert {i.name for i in manifest.inputs} >= {"distill-data", "generate"}
    assert next(m for m in manifest.models if m.role == "student").sha256 == \
        next(m for m in ws.committed("distill").models if m.role == "student").sha256  # the trained one
    table = pq.read_table(root / "distill-eval" / "task_scores.parquet").to_pylist()
    assert [r["task"] for r in table] == [t["task"] for t in document["tasks"]]
    assert json.loads((root / "distill-eval" / "results.json").read_text()) == document


def test_the_report_section_escapes_model_output(evaluated, tmp_path):
    from html import escape as esc

    from intentkg.distill.evaluate_report import render

    root, document = evaluated
    copy = linked_copy(root, tmp_path / "ws")
    doc = json.loads((copy / "distill-eval" / "results.json").read_text())
    doc["tasks"].append({"task": "generation", "metric": "critic_pass", "rows": 1, "student": 0.5, "teacher": 0.6,
                         "detail": {"student": {"examples": [{"prompt": "<b>p</b>",
                                                              "answer": "<script>alert(1)</script>"}]}}})
    Workspace(copy).amend("distill-eval", {"results.json": json.dumps(doc)})
    html = render(ReportContext(Workspace(copy)))
    assert "<script>" not in html and "&lt;script&gt;" in html
    warnings = json.loads((copy / "distill" / "intentkg_lineage.json").read_text())["warnings"]
    assert warnings and all(esc(w) in html for w in warnings)  # the student's lineage warnings, shown


def test_the_table_says_which_critic_checked_the_generation(capsys):
    from intentkg.cli import distill_eval

    document = {"tasks": [{"task": "generation", "metric": "critic_pass", "rows": 2, "student": 1.0, "teacher": 0.5,
                           "student_worse": False,
                           "detail": {"student": {"critic": "rules only (the filter has no critic)"}}}]}
    distill_eval.print_scores(document, "t")
    assert "generation's critic pass: checked by rules only (the filter has no critic)" in capsys.readouterr().out
