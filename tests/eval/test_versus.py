"""`eval versus`: two stored evaluations of the same pairs compared pair for pair (real bundled MiniLM,
bi-encoder + logistic regression on the tiny ESCI-format set)."""

import pytest

from intentkg.errors import IntentkgError
from intentkg.eval.config import EvalConfig, KnowledgeConfig
from intentkg.eval.esci_data import EsciDataConfig
from intentkg.eval.stage import run_esci_eval
from intentkg.eval.versus import versus


def _config(esci_dir, stage, **data):
    return EvalConfig(data=EsciDataConfig(path=esci_dir, **data), encoders=["bi"], heads=["logreg"], tasks=["esci"],
                      seeds=1, n_boot=200, primary=("bi", "logreg", "esci", "macro_f1"), stage=stage,
                      knowledge=KnowledgeConfig(min_similarity=0.3, kg=stage == "eval-kg"))


def test_versus_pairs_two_evaluations_and_refuses_different_pairs(eval_ws, esci_dir):
    docs = {s: run_esci_eval(eval_ws, _config(esci_dir, s)) for s in ("eval-kg", "eval-nokg")}
    same = versus(eval_ws, "eval-kg", "eval-kg", encoder="bi", head="logreg", n_boot=200)
    assert same["difference"]["macro_f1"]["abs"] == 0 and same["difference"]["macro_f1"]["abs_ci"] == [0.0, 0.0]
    result = versus(eval_ws, "eval-nokg", "eval-kg", encoder="bi", head="logreg", n_boot=200)
    for stage, key in (("eval-nokg", "first_score"), ("eval-kg", "second_score")):
        (stored,) = docs[stage]["results"]  # what each run reported for its "with" setting
        assert result[key]["macro_f1"]["mean"] == pytest.approx(stored["with"]["macro_f1"]["mean"])
    # without knowledge the second run's "with" is its "without": the difference is the first run's lift
    (kg,) = docs["eval-kg"]["results"]
    assert result["difference"]["macro_f1"]["abs"] == pytest.approx(kg["lift"]["macro_f1"]["abs"])
    assert result["same_without"] is True and result["n_pairs"] == 15
    other = run_esci_eval(eval_ws, _config(esci_dir, "eval-fewer", max_queries=2))
    assert other["results"]
    with pytest.raises(IntentkgError, match="scored different pairs"):
        versus(eval_ws, "eval-kg", "eval-fewer", encoder="bi", head="logreg")
    with pytest.raises(IntentkgError, match="no predictions of cross"):
        versus(eval_ws, "eval-kg", "eval-nokg", encoder="cross", head="logreg")
