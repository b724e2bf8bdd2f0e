"""Run Python in a child process that SIGKILLs itself at a named point (``INTENTKG_KILL_AT``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def run_python(code: str, kill_at: str | None = None, timeout: float = 240, cwd: Path | None = None,
               **env: str) -> subprocess.CompletedProcess:
    environ = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
                   HF_HUB_OFFLINE="1", INTENTKG_NO_PROGRESS="1", **env)
    environ.pop("INTENTKG_KILL_AT", None)
    if kill_at:
        environ["INTENTKG_KILL_AT"] = kill_at
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=environ, capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)


def killed(code: str, kill_at: str, **kwargs) -> None:
    """Run ``code``; it must die by SIGKILL at ``kill_at`` (not finish, not fail otherwise)."""
    proc = run_python(code, kill_at, **kwargs)
    assert proc.returncode == -signal.SIGKILL, (
        f"expected a SIGKILL at {kill_at}, got exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def finished(code: str, **kwargs) -> subprocess.CompletedProcess:
    proc = run_python(code, **kwargs)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc
