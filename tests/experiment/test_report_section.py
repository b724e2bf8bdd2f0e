"""The report section: forest plot, heatmap and scree plot as inline SVG, everything escaped."""

from __future__ import annotations

import pyarrow.parquet as pq

from intentkg.experiment.config import MetricsConfig
from intentkg.experiment.report_section import render
from intentkg.experiment.stage import run_analyze, run_prune
from intentkg.report.registry import ReportContext, sections
from intentkg.workspace import Workspace

from .conftest import experiment_table

EVIL = "<script>alert(1)</script>"


def test_section_shows_readout_and_pruning_and_escapes_metric_names(tmp_path):
    ws = Workspace(tmp_path / "ws")
    assert render(ReportContext(ws)) is None  # nothing read out yet: the section is left out
    table = experiment_table(n=2000).rename_columns(
        [EVIL if c == "dwell_s" else c for c in experiment_table(n=1).column_names])
    path = tmp_path / "units.parquet"
    pq.write_table(table, path)
    run_analyze(path, MetricsConfig(decision=["sales"]), workspace=ws.root)
    run_prune(path, MetricsConfig(), threshold=0.7, max_decision=15, prefer=[], workspace=ws.root)
    html = render(ReportContext(ws))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count("<svg") == 3  # forest plot, correlation heatmap, scree plot
    assert "Sample-ratio check" in html and "principal components explain 95%" in html
    assert "experiment" in {s.key for s in sections()}
    assert ws.manifest("experiment").status == "complete" and ws.manifest("experiment-prune").status == "complete"
    assert ws.manifest("experiment").inputs[0].name == str(path)
