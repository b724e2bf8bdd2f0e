"""`eval esci --primary`: the comparison declared primary reaches the evaluation's config.

The README's quickstart evaluates the fusion encoder only; without the option its result was the
default primary's (cross + MLP) absentee, so the quickstart's one lift was printed as a Holm-adjusted
secondary."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from intentkg.cli.main import cli
from intentkg.errors import ConfigError


def _config_seen(monkeypatch, tmp_path, *extra: str):
    seen = {}

    def fake_run(workspace, config, force=False):
        seen["config"] = config
        return {"headline": None}

    monkeypatch.setattr("intentkg.eval.stage.run_esci_eval", fake_run)
    result = CliRunner().invoke(cli, ["eval", "esci", "--demo", "-w", str(tmp_path / "ws"), "--encoder", "fusion",
                                      "--json", *extra])
    return result, seen.get("config")


def test_primary_option_declares_the_comparison(monkeypatch, tmp_path):
    result, config = _config_seen(monkeypatch, tmp_path, "--primary", "fusion,mlp,esci")
    assert result.exit_code == 0, result.output
    assert config.primary == ("fusion", "mlp", "esci", "macro_f1")
    assert json.loads(result.output) == {"headline": None}
    _, default = _config_seen(monkeypatch, tmp_path)
    assert default.primary == ("cross", "mlp", "esci", "macro_f1")  # unchanged without the option


def test_a_malformed_primary_is_one_clear_error(monkeypatch, tmp_path):
    result, config = _config_seen(monkeypatch, tmp_path, "--primary", "fusion,mlp")
    assert result.exit_code != 0 and config is None  # stopped before the evaluation ran
    assert isinstance(result.exception, ConfigError) and "ENCODER,HEAD,TASK" in str(result.exception)


def test_the_split_seed_reaches_the_config_and_a_negative_one_is_refused(monkeypatch, tmp_path):
    """Old code: --split-seed -3 reached numpy and ended in a ValueError traceback."""
    result, config = _config_seen(monkeypatch, tmp_path, "--split-seed", "4")
    assert result.exit_code == 0, result.output
    assert config.data.split_seed == 4
    result, config = _config_seen(monkeypatch, tmp_path, "--split-seed", "-3")
    assert result.exit_code == 2 and config is None
    text = "".join(c for c in result.output if c.isalnum() or c in "-'")  # rich wraps the box's lines
    assert "Invalidvaluefor'--split-seed'" in text and "greaterthanorequalto0" in text
