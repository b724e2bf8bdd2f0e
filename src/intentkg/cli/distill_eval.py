"""``intentkg distill eval`` (and ``--rounds``): the student against its teacher, per task, on the held-out split.

Registered on the ``distill`` command group of :mod:`intentkg.cli.distill`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from intentkg.cli.distill import app
from intentkg.cli.options import FORCE, WORKSPACE

console = Console(soft_wrap=True)


def _value(value) -> str:
    return "—" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def print_scores(document: dict, title: str) -> None:
    table = Table(title=title, caption="student worse: its value is below the teacher's")
    for column in ("task", "metric", "rows", "student", "teacher", "critic", "student worse"):
        table.add_column(column, justify="left" if column in ("task", "metric") else "right")
    for t in document["tasks"]:
        worse = {True: "[red]yes[/]", False: "no", None: "—"}[t.get("student_worse")]
        table.add_row(t["task"], t["metric"], str(t.get("rows")), _value(t.get("student")), _value(t.get("teacher")),
                      _value(t.get("critic")), worse)
    console.print(table)
    generation = next((t for t in document["tasks"] if t["task"] == "generation"), None)
    checked_by = ((generation or {}).get("detail") or {}).get("student", {}).get("critic")
    if checked_by:
        console.print(f"generation's critic pass: checked by {checked_by}", highlight=False)
    speed = document.get("tokens_per_second") or {}
    if speed.get("teacher"):
        console.print(f"generation tokens/s on the same prompts: student {_value(speed['student'].get('tokens_per_second'))}"
                      f", teacher {_value(speed['teacher'].get('tokens_per_second'))} (student/teacher "
                      f"{_value(speed.get('student_over_teacher'))})", highlight=False)


@app.command("eval")
def distill_eval(workspace: Path = WORKSPACE, force: bool = FORCE,
                 student: Optional[Path] = typer.Option(None, help="Student GGUF (default <ws>/distill/student.gguf)."),
                 teacher: Optional[str] = typer.Option(None, help="Teacher GGUF or bundled alias (default: the "
                                                                  "generate stage's generator)."),
                 task: Optional[list[str]] = typer.Option(None, "--task", help="Tasks to measure (default all five)."),
                 split: str = typer.Option("test", help="Held-out split: test, dev or held-out (both)."),
                 max_rows: int = typer.Option(60, help="Held-out rows per task."),
                 threads: Optional[int] = typer.Option(None, help="llama.cpp threads."),
                 no_teacher_judgements: bool = typer.Option(False, "--no-teacher-judgements",
                                                            help="Ask only the student the yes/no tasks.")) -> None:
    """Measure the student against its teacher per task: <workspace>/distill-eval/results.json."""
    from intentkg.distill.evaluate import EvalConfig, run_distill_eval

    config = EvalConfig(student=student, teacher=teacher, split=split, max_rows=max_rows, n_threads=threads,
                        teacher_judgements=not no_teacher_judgements, **({"tasks": list(task)} if task else {}))
    document = run_distill_eval(workspace, config, force=force)
    print_scores(document, f"student vs teacher on the {split} split ({workspace / 'distill-eval'})")
