"""`intentkg filter`, `view` and `report` as a user runs them (real subprocesses)."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow.parquet as pq
import yaml

from intentkg.filter.synthetic import write_synthetic_workspace


def _cli(*args):
    env = dict(os.environ, INTENTKG_NO_PROGRESS="1", COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "intentkg.cli.main", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=300)


def test_filter_view_report(tmp_path):
    ws = tmp_path / "ws"
    write_synthetic_workspace(ws, 400, seed=4, logprob_share=1.0)
    config = tmp_path / "filter.yaml"
    config.write_text(yaml.safe_dump({"similarity": {"enabled": False}, "dedup": {"semantic": False},
                                      "thresholds": {"min_completeness": -3.5}}))
    result = _cli("filter", "-w", ws, "--config", config)
    assert result.returncode == 0, result.stderr
    assert "after completeness" in result.stdout and "circular" in result.stdout
    assert (ws / "filter" / "scores.parquet").exists()

    again = _cli("filter", "-w", ws, "--config", config, "--min-plausibility", "0.9")
    assert again.returncode == 0 and "skipped" in again.stderr

    out = tmp_path / "kept.parquet"
    view = _cli("view", "-w", ws, "--off", "completeness", "--ignore-flag", "generic_tail", "-o", out, "--only-kept")
    assert view.returncode == 0, view.stderr
    kept = pq.read_table(out)
    assert kept.num_rows > 0 and all(kept.column("kept").to_pylist())

    bad = _cli("view", "-w", ws, "--off", "nonsense")
    assert bad.returncode == 2 and "--off 'nonsense'" in bad.stderr

    report = _cli("report", ws, "-o", tmp_path / "r.html", "--examples", "2")
    assert report.returncode == 0, report.stderr
    assert "Candidates surviving each step" in (tmp_path / "r.html").read_text()


def test_filter_without_candidates_is_one_line(tmp_path):
    result = _cli("filter", "-w", tmp_path / "nothing")
    assert result.returncode == 2 and "intentkg generate" in result.stderr and "Traceback" not in result.stderr
