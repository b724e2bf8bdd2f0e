"""The session's one trained student, shared by every test that needs a student (tests/distill, the
filter's student critic, the lineage walk): registered as a plugin in tests/conftest.py, so it is
trained once per session wherever it is first asked for."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.student import EVAL, TINY


@pytest.fixture(scope="session")
def convert_script() -> Path:
    """convert_hf_to_gguf.py: the user cache's copy, else extracted from llama-cpp-python's sdist
    (pip download; about 30 s to a few minutes once per machine, then cached)."""
    from intentkg.distill.convert_script import find_convert_script

    return find_convert_script()


@pytest.fixture(scope="session")
def student(tmp_path_factory, convert_script):
    """The one trained student of the session, trained the hard way: a first `distill train` run is
    SIGKILLed right after its step-1 checkpoint, the second run resumes from it and finishes (2 steps on
    the bundled SmolLM2-135M, rows of a small real workspace whose knowledge the bundled SmolLM2
    generated: the teacher), then merges, writes the GGUF and its lineage record.

    ``gguf``: the student file; ``ws``: its workspace (read it, do not change it: copy first)."""
    import json

    from helpers.kill import killed
    from helpers.student import teacher_workspace
    from intentkg.distill.data import run_distill_data
    from intentkg.distill.train import CHECKPOINTS, GGUF, STAGE, TrainConfig, run_distill_train

    ws = teacher_workspace(tmp_path_factory.mktemp("student"))
    run_distill_data(ws)
    code = f"""
        from intentkg.distill.train import TrainConfig, run_distill_train
        run_distill_train({str(ws.root)!r}, TrainConfig(**{TINY!r}))
    """
    killed(code, f"{STAGE}:saved:1", timeout=1800, INTENTKG_CONVERT_SCRIPT=str(convert_script))
    saved = sorted((ws.stage_dir(STAGE) / CHECKPOINTS).glob("*/checkpoint-*"))
    assert [p.name for p in saved] == ["checkpoint-1"], saved
    state = json.loads((saved[0] / "trainer_state.json").read_text())
    manifest = run_distill_train(ws, TrainConfig(**TINY, convert_script=str(convert_script)))
    return {"ws": ws, "manifest": manifest, "killed_state": state, "gguf": ws.stage_dir(STAGE) / GGUF}


@pytest.fixture(scope="session")
def evaluated(student):
    """`distill eval` of the session's trained student against the bundled SmolLM2 (the measure of round 0)."""
    from intentkg.distill.evaluate import EvalConfig, run_distill_eval

    return student["ws"].root, run_distill_eval(student["ws"], EvalConfig(**EVAL))
