"""``intentkg experiment analyze | prune | power`` as a user runs them (a real subprocess for the exit
codes), ``--json`` fields, SRM stop, quarantine written, prune -> tiers YAML -> analyze."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from intentkg.cli.experiment import app
from intentkg.errors import InputError

from .conftest import experiment_table

FIELDS = {"metric", "effect", "relative_effect", "ci_low", "ci_high", "p_value", "p_adjusted", "significant",
          "family", "cuped"}


def _cli(*args):
    env = dict(os.environ, INTENTKG_NO_PROGRESS="1", COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "intentkg.cli.main", "experiment", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120)


def test_analyze_json_has_every_field_and_finds_the_real_effect(experiment_files, tmp_path):
    table, config = experiment_files
    result = CliRunner().invoke(app, ["analyze", str(table), "--config", str(config), "--json", "-w",
                                      str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["srm"]["passed"] is True and set(doc["srm"]) >= {"p_value", "passed"}
    by_metric = {m["metric"]: m for m in doc["metrics"]}
    assert all(FIELDS <= set(m) for m in doc["metrics"])
    sales = by_metric["sales"]
    assert sales["family"] == "decision" and sales["significant"] and sales["ci_low"] < sales["effect"] < sales["ci_high"]
    assert 0.5 < sales["cuped"] < 0.9 and sales["ci_low"] > 0  # pre-period explains most of the variance
    assert sales["relative_effect"] == pytest.approx(0.05, abs=0.02)
    assert by_metric["ctr"]["family"] == "decision" and by_metric["ctr"]["cuped"] is None
    assert by_metric["latency_ms"]["family"] == "guardrail" and by_metric["latency_ms"]["p_adjusted"] == \
        by_metric["latency_ms"]["p_value"]
    assert by_metric["dwell_s"]["family"] == "exploratory" and by_metric["dwell_s"]["p_adjusted"] is None
    assert doc["family"]["method"] == "holm" and doc["family"]["size"] == 2
    assert (tmp_path / "ws" / "experiment" / "readout.json").exists()
    assert pq.read_table(tmp_path / "ws" / "experiment" / "effects.parquet").num_rows == len(doc["metrics"])


def test_srm_failure_stops_with_a_clear_message_and_exit_3(tmp_path):
    table = experiment_table(n=4000)
    keep = [v == "control" or i % 5 != 0 for i, v in enumerate(table.column("variant").to_pylist())]
    path = tmp_path / "broken.parquet"
    pq.write_table(table.filter(pa.array(keep)), path)  # a fifth of treatment units lost in logging
    result = _cli("analyze", path, "--json")
    assert result.returncode == 3  # fails on the old cli/main.py, which dropped a typer.Exit's code
    assert "sample ratio mismatch" in result.stderr and "Traceback" not in result.stderr
    doc = json.loads(result.stdout)
    assert doc["srm"]["passed"] is False and doc["metrics"] == []


def test_bad_rows_are_quarantined_to_a_file_and_counted(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("unit_id,variant,sales\n" + "".join(f"u{i},{'control' if i % 2 else 'treatment'},{i % 7}\n"
                                                        for i in range(200)) + "u900,ctrl,3\nu901,control,\n")
    result = CliRunner().invoke(app, ["analyze", str(path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["quarantine"]["by_reason"] == {"bad_variant": 1, "missing_value": 1}
    rows = pq.read_table(tmp_path / "units.quarantine.parquet").to_pylist()
    assert {(r["source_row"], r["column"], r["reason"]) for r in rows} == {
        (202, "variant", "bad_variant"), (203, "sales", "missing_value")}  # file lines (the header is line 1)
    assert doc["metrics"][0]["n_missing"] == 1


def test_prune_writes_tiers_that_analyze_reads(tmp_path):
    history = tmp_path / "history.parquet"
    pq.write_table(experiment_table(n=3000, seed=3, experiments=3), history)
    tiers = tmp_path / "tiers.yaml"
    runner = CliRunner()
    result = runner.invoke(app, ["prune", str(history), "--json", "--out", str(tiers), "--threshold", "0.8",
                                 "-w", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert {"clusters", "representatives", "components_95", "tiers"} <= set(doc)
    assert any(set(c) >= {"sales", "orders"} for c in doc["clusters"])  # orders is sales / 10 plus noise
    assert "orders" in doc["representatives"] and "sales" not in doc["representatives"]  # no config: by name
    config = tmp_path / "metrics.yaml"
    config.write_text("decision: [sales]\n")
    with_config = json.loads(runner.invoke(app, ["prune", str(history), "--json", "--threshold", "0.8",
                                                 "--config", str(config)]).output)
    assert "sales" in with_config["representatives"] and "orders" not in with_config["representatives"]
    analyzed = runner.invoke(app, ["analyze", str(history), "--experiment", "e1", "--config", str(tiers), "--json"])
    assert analyzed.exit_code == 0, analyzed.output
    families = {m["metric"]: m["family"] for m in json.loads(analyzed.output)["metrics"]}
    assert {m for m, f in families.items() if f == "decision"} == set(doc["tiers"]["decision"])


def test_power_json_gives_an_mde_per_metric_for_both_families(experiment_files):
    table, config = experiment_files
    result = CliRunner().invoke(app, ["power", str(table), "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["families"] == {"all": 7, "decision": 2}
    for row in doc["metrics"]:
        assert row["mde"]["all"] > row["mde"]["decision"] > 0


def test_several_experiments_need_a_choice(tmp_path):
    path = tmp_path / "two.parquet"
    pq.write_table(experiment_table(n=400, experiments=2), path)
    result = CliRunner().invoke(app, ["analyze", str(path)])
    assert isinstance(result.exception, InputError)  # the CLI prints it as one line, exit 2
    assert "--experiment" in str(result.exception) and "'experiment_id'" in str(result.exception)


def test_three_arms_are_each_compared_with_control_in_one_family(tmp_path):
    table = experiment_table(n=3000, seed=4)
    arms = ["control", "knowledge_a", "knowledge_b"]
    table = table.set_column(table.column_names.index("variant"), "variant",
                             pa.array([arms[i % 3] for i in range(table.num_rows)]))
    path = tmp_path / "three.parquet"
    pq.write_table(table, path)
    config = tmp_path / "metrics.yaml"
    config.write_text("arms: [control, knowledge_a, knowledge_b]\ndecision: [sales, orders]\ncorrection: bh\n")
    result = CliRunner().invoke(app, ["analyze", str(path), "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["srm"]["counts"] == {"control": 1000, "knowledge_a": 1000, "knowledge_b": 1000}
    assert doc["family"]["size"] == 4 and doc["family"]["method"] == "bh"  # 2 metrics x 2 treatment arms
    decision = [(m["metric"], m["arm"]) for m in doc["metrics"] if m["family"] == "decision"]
    assert sorted(decision) == [("orders", "knowledge_a"), ("orders", "knowledge_b"), ("sales", "knowledge_a"),
                                ("sales", "knowledge_b")]


def test_without_the_experiment_extra_the_error_says_what_to_install(monkeypatch, experiment_files):
    import builtins

    real_import = builtins.__import__

    def no_statsmodels(name, *args, **kwargs):
        if name.split(".")[0] == "statsmodels":
            raise ImportError("No module named 'statsmodels'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_statsmodels)
    result = CliRunner().invoke(app, ["analyze", str(experiment_files[0])])
    assert "pip install 'intentkg[experiment]'" in str(result.exception)


def test_untestable_comparisons_are_listed_not_tested(tmp_path):
    n = 200
    path = tmp_path / "edge.parquet"
    pq.write_table(pa.table({"unit_id": [f"u{i}" for i in range(n)], "variant": ["control", "treatment"] * (n // 2),
                             "constant": [1.0] * n, "clicks": [0] * n, "views": [0] * n,
                             "sales": [float(i % 13) for i in range(n)]}), path)
    config = tmp_path / "edge.yaml"
    config.write_text("ratios:\n  ctr: {numerator: clicks, denominator: views}\n")
    result = CliRunner().invoke(app, ["analyze", str(path), "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert [m["metric"] for m in doc["metrics"]] == ["sales"]  # before: ctr came out 'significant', p = 0
    reasons = {s["metric"]: s["reason"] for s in doc["skipped"]}
    assert set(reasons) == {"constant", "clicks", "views", "ctr"}
    assert "sums to 0" in reasons["ctr"] and "constant within each arm" in reasons["constant"]
    assert doc["family"]["size"] == 1
