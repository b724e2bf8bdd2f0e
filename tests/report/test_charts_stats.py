"""Heatmap and scree plot: one cell per pair, colours by sign, the 95% mark where it is reached."""

from __future__ import annotations

from intentkg.report.charts import heatmap, scree_plot


def test_heatmap_has_a_cell_per_pair_with_its_value_and_escaped_labels():
    svg = heatmap(["a", "<b>"], [[1.0, -0.5], [-0.5, 1.0]], "r")
    assert svg.count("<rect") == 4 and "&lt;b&gt;" in svg and "<b>" not in svg
    assert "r = -0.500" in svg and 'fill="rgb(9,105,218)"' in svg  # +1 is full blue
    assert heatmap([], [], "r") == ""


def test_scree_plot_marks_the_components_reaching_the_target():
    svg = scree_plot([0.6, 0.3, 0.07, 0.03], "pca")
    assert svg.count("<rect") == 4 and "3 of 4 components reach 95% of the variance" in svg
    assert "cumulative 90.0%" in svg
