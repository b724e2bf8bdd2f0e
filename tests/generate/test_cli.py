"""`intentkg generate` errors as one line a user can act on (no model is loaded for these)."""

from __future__ import annotations

import os
import subprocess
import sys

from intentkg.ingest import run_ingest
from intentkg.ingest.demo import demo_config


def _cli(*args):
    env = dict(os.environ, INTENTKG_NO_PROGRESS="1", COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "intentkg.cli.main", "generate", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=300)


def test_user_errors_are_one_line(tmp_path):
    ws = tmp_path / "ws"
    run_ingest(demo_config(), ws)
    cases = [
        (["--relations", "used_for_fun"], "unknown relation(s) 'used_for_fun'"),
        (["--option", "n_threads"], "write key=value"),
        (["--option", "n_thread=2"], "no option 'n_thread'"),
        (["--model", "/nope/x.gguf"], "no such GGUF file"),
    ]
    for args, message in cases:
        result = _cli("-w", ws, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr, (args, result.stderr)
    result = _cli("-w", tmp_path / "empty")
    assert result.returncode == 2 and "run `intentkg ingest` first" in result.stderr
    result = _cli("-w", ws, "--limit", "0")
    assert result.returncode == 2 and "selection.limit: Input should be greater than or equal to 1" in result.stderr
