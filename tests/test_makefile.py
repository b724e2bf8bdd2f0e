"""The Makefile's recipes run Python where it may cache byte code: the venv is installed with --no-compile,
so an inherited PYTHONDONTWRITEBYTECODE=1 would make every process compile torch/transformers on import."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_recipes_do_not_inherit_pythondontwritebytecode():
    if shutil.which("make") is None:
        pytest.fail("make is needed to run the project's two commands")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    probe = "intentkg-env-probe: ; @printenv PYTHONDONTWRITEBYTECODE || echo unset"
    proc = subprocess.run(["make", "-s", "--no-print-directory", "--eval", probe, "intentkg-env-probe"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "unset"
