import numpy as np

from intentkg.eval.metrics import compare
from intentkg.eval.report_section import forest_plot, render
from intentkg.eval.stage import headline
from intentkg.report.registry import ReportContext, sections
from intentkg.workspace import Workspace


def _document():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 200)
    groups = rng.integers(0, 30, 200).astype(str)
    results = [{"encoder": "cross", "head": "mlp", "task": "esci",
                **compare(y, groups, [rng.integers(0, 4, 200)], [y], ("E", "S", "C", "I"), n_boot=100)}]
    return {"headline": headline(results, ("cross", "mlp", "esci", "macro_f1")), "results": results,
            "coverage": {"test": {"pairs": 200, "any": 0.5, "query_side": 0.25, "product_side": 0.5,
                                  "by_source": {"query_nearest": 0.25, "product": 0.5}, "mean_facts": 2.0}},
            "examples": [{"query": "<script>alert(1)</script>", "title": "t & co", "label": "E",
                          "knowledge": "product: used for <b>x</b>"}],
            "files": ["/x/demo_data/esci/shopping_queries_dataset_examples.parquet"], "mode": "split",
            "config": {"seeds": 1, "n_boot": 100, "knowledge": {"unseen": "own", "top_k": 5}},
            "data": {"pairs": 200, "queries": 30}}


def test_section_escapes_and_shows_the_lift(tmp_path):
    ws = Workspace(tmp_path / "ws")
    assert render(ReportContext(ws)) is None  # no evaluation yet: the section is left out
    with ws.run("eval-esci", config={}) as run:  # results.json is an output of the stage run
        run.write_json("results.json", _document())
    html = render(ReportContext(ws))
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>x</b>" not in html
    assert "macro-F1 lift" in html and "<svg" in html and "synthetic demo data" in html
    assert "eval-esci" in {s.key for s in sections()}


def test_forest_plot_colours_by_interval():
    svg = forest_plot([("up", 0.1, 0.05, 0.2), ("flat", 0.0, -0.1, 0.1), ("down", -0.1, -0.2, -0.05)], "t")
    assert svg.count("<circle") == 3 and "#0969da" in svg and "#cf222e" in svg
    assert forest_plot([], "t") == ""


def test_section_shows_the_controls_beside_the_lift(tmp_path):
    from intentkg.eval.controls import decide

    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 200)
    groups = rng.integers(0, 30, 200).astype(str)
    without, with_ = [rng.integers(0, 4, 200)], [y]
    result = {"encoder": "cross", "head": "mlp", "task": "esci",
              **compare(y, groups, without, with_, ("E", "S", "C", "I"), n_boot=100, keep_replicates=True)}
    result["_replicates"] = {"without": result.pop("_replicates")}
    for name in ("shuffled", "filler"):  # a control as good as the knowledge itself: the lift cannot count
        against = compare(y, groups, with_, with_, ("E", "S", "C", "I"), n_boot=100, keep_replicates=True)
        result["_replicates"][name] = against.pop("_replicates")
        result.setdefault("controls", {})[name] = {"score": against["without"], "lift": against["lift"]}
    doc = _document()
    doc["results"] = [result]
    doc["decision"] = decide(doc["results"], ("cross", "mlp", "esci", "macro_f1"))
    doc["headline"] = headline(doc["results"], ("cross", "mlp", "esci", "macro_f1"))
    ws = Workspace(tmp_path / "ws")
    with ws.run("eval-esci", config={}) as run:  # results.json is an output of the stage run
        run.write_json("results.json", doc)
    html = render(ReportContext(ws))
    assert "with − shuffled" in html and "with − filler" in html
    assert "Controls: shuffled knowledge 1.000" in html and "<b>does not count</b>" in html
    assert "no (primary)" in html
