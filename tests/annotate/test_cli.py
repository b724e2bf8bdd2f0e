"""`intentkg annotate ...` end to end through the CLI (typer's runner)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from intentkg.cli.main import cli

runner = CliRunner()


def _run(*args: str):
    result = runner.invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_users_import_agreement_export(tmp_path):
    ws = str(tmp_path / "ws")
    out = _run("annotate", "add-user", "maria", "-w", ws, "--role", "resolver")
    token = out.strip().splitlines()[-1]
    assert len(token) >= 30 and "maria" in _run("annotate", "users", "-w", ws)
    assert "1,000 rows; 500 new items, 1,000 new answers" in _run("annotate", "import", "demo", "-w", ws)
    assert "0 new answers, 1,000 already in the store" in _run("annotate", "import", "demo", "-w", ws)
    report = json.loads(_run("annotate", "agreement", "-w", ws, "--json"))
    assert report["items_with_two"] == 500 and report["annotators"] == ["ann1", "ann2"]
    assert 0.4 < report["questions"]["plausibility"]["kappa"] < 1.0
    assert "Cohen's kappa" in _run("annotate", "agreement", "-w", ws)
    _run("annotate", "export", str(tmp_path / "ls"), "-w", ws, "--format", "label-studio")
    assert len(json.loads((tmp_path / "ls" / "tasks.json").read_text())) == 500
    _run("annotate", "revoke", "maria", "-w", ws)
    bad = runner.invoke(cli, ["annotate", "revoke", "maria", "-w", ws])
    assert bad.exit_code != 0
