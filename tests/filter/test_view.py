"""Operating points over stored scores: verdicts, reasons, the first step, nulls, and the funnel."""

from __future__ import annotations

import pyarrow as pa

from intentkg.filter.config import Thresholds
from intentkg.filter.funnel import Funnel
from intentkg.filter.view import verdicts
from intentkg.schemas import SCORES


def _scores():
    rows = [
        {"candidate_id": "ok", "completeness": -2.0, "input_similarity": 0.3, "plausibility": 0.9, "typicality": 0.8},
        {"candidate_id": "flagged", "rule_flags": ["circular"], "rule_details": ["..."], "completeness": -2.0},
        {"candidate_id": "incomplete", "completeness": -9.0, "input_similarity": 0.95, "plausibility": 0.2},
        {"candidate_id": "dup", "dup_of": "ok", "dup_kind": "lexical", "plausibility": 0.9},
        {"candidate_id": "unscored"},
        {"candidate_id": "atypical", "plausibility": 0.9, "typicality": 0.1},
    ]
    for r in rows:
        r.setdefault("rule_flags", [])
        r.setdefault("rule_details", [])
        r.setdefault("dup_count", 0)
    return pa.Table.from_pylist(rows, schema=SCORES)


def _view(point):
    table = verdicts(_scores(), point)
    return {r["candidate_id"]: (r["kept"], r["reasons"], r["drop_step"]) for r in table.to_pylist()}


def test_default_point():
    v = _view(Thresholds(min_completeness=-7, max_input_similarity=0.8, min_plausibility=0.5))
    assert v["ok"] == (True, [], None)
    assert v["flagged"] == (False, ["circular"], "rules")
    assert v["incomplete"] == (False, ["low_completeness", "input_paraphrase", "low_plausibility"], "completeness")
    assert v["dup"] == (False, ["duplicate"], "dedup")
    assert v["unscored"] == (True, [], None)  # a score that was not computed never rejects
    assert v["atypical"][0] is True  # typicality gate off by default


def test_other_points_without_rescoring():
    scores = _scores()
    strict = verdicts(scores, Thresholds(min_typicality=0.5, ignore_flags=["circular"], drop_duplicates=False))
    kept = {r["candidate_id"]: r["kept"] for r in strict.to_pylist()}
    assert kept["flagged"] and kept["dup"] and not kept["atypical"]
    off = verdicts(scores, Thresholds(min_completeness=None, max_input_similarity=None, min_plausibility=None))
    assert {r["candidate_id"] for r in off.to_pylist() if r["kept"]} >= {"incomplete", "ok", "unscored"}
    assert scores.equals(_scores())  # nothing stored changes


def test_funnel_counts_steps_kinds_and_reasons():
    table = verdicts(_scores(), Thresholds())
    table = table.append_column("kind", pa.array(["co_buy", "co_buy", "search_buy", "search_buy", "co_buy", "co_buy"]))
    table = table.append_column("relation", pa.array(["used_with"] * 3 + ["xWant"] * 3))
    funnel = Funnel()
    funnel.add(table)
    total = funnel.total()
    assert total["candidates"] == 6 and total["kept"] == 3
    assert total["survivors"]["parse"] == 6 and total["survivors"]["rules"] == 5
    assert total["survivors"]["completeness"] == 4 and total["survivors"]["dedup"] == 3
    assert funnel.by_kind()["search_buy"] == {"candidates": 2, "survivors": {
        "parse": 2, "rules": 2, "generic": 2, "completeness": 1, "similarity": 1, "dedup": 0, "critic": 0},
        "kept": 0, "kept_share": 0.0}
    assert funnel.reason_counts() == {"circular": 1, "low_completeness": 1, "input_paraphrase": 1,
                                      "low_plausibility": 1, "duplicate": 1}
    assert funnel.reason_counts(first=True)["low_completeness"] == 1
    data = funnel.to_dict()
    assert data["by_relation"]["xWant"]["kept"] == 2 and "co_buy/used_with" in data["by_kind_relation"]


def test_completeness_is_compared_on_its_own_scale():
    """Old code had one threshold for both scales (it has no min_generation_completeness): any single
    value either lets weak generator tails through (-4.0 is low for generation, measured mean -2.05)
    or rejects ordinary scorer tails (-6.0, measured mean -5.39)."""
    rows = [{"candidate_id": c, "rule_flags": [], "rule_details": [], "dup_count": 0, "completeness": v,
             "completeness_source": s} for c, v, s in (("gen_weak", -4.0, "generation"),
                                                       ("scorer_ok", -6.0, "gemma-3-270m.gguf"),
                                                       ("scorer_bad", -8.0, "gemma-3-270m.gguf"))]
    point = Thresholds(min_completeness=-7.0, min_generation_completeness=-3.0)
    kept = {r["candidate_id"]: r["kept"] for r in verdicts(pa.Table.from_pylist(rows, schema=SCORES), point).to_pylist()}
    assert kept == {"gen_weak": False, "scorer_ok": True, "scorer_bad": False}
    off = Thresholds(min_completeness=-7.0, min_generation_completeness=None)
    assert verdicts(pa.Table.from_pylist(rows, schema=SCORES), off).column("kept").to_pylist() == [True, True, False]
