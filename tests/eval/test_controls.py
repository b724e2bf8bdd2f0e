"""The controls beside every lift: shuffled knowledge, same-length filler, and the decision rule."""

import numpy as np
import pytest

from intentkg.eval.controls import (CONTROLS, decide, donor_rows, filler_knowledge, filler_text,
                                    shuffled_knowledge, token_counter, two_sided_p)
from intentkg.eval.inputs import Knowledge
from intentkg.knowledge.facts import PairKnowledge

QUERIES = ["a", "a", "b", "b", "c", "d", "e", "e", "f", "f"]
SPLITS = ["train"] * 5 + ["test"] * 5


def _knowledge(texts):
    return Knowledge([PairKnowledge() for _ in texts], [f"q{t}" for t in texts], [f"p{t}" for t in texts],
                     list(texts))


def test_shuffled_knowledge_is_another_querys_and_a_permutation_within_the_split():
    for seed in range(20):
        donor = donor_rows(QUERIES, SPLITS, seed)
        assert sorted(donor) == list(range(10))  # every text used once: same lengths, same coverage
        for i, d in enumerate(donor):
            assert QUERIES[d] != QUERIES[i] and SPLITS[d] == SPLITS[i]
    texts = [f"k{i}" if i % 3 else "" for i in range(10)]
    shuffled = shuffled_knowledge(_knowledge(texts), QUERIES, SPLITS, seed=1)
    assert sorted(shuffled.pair_text) == sorted(texts)
    donor = donor_rows(QUERIES, SPLITS, 1)
    assert shuffled.query_text == [f"q{texts[d]}" for d in donor]  # the sides move together


def test_filler_has_the_same_token_length_with_the_real_tokenizer():
    from intentkg.model_folder import resolve

    tokenizer = resolve("all-MiniLM-L6-v2").tokenizer()
    texts = ["query intent: used for function drying the face; product: used for event a birthday party",
             "", "shared: winter camping", "product: customer wants stay warm at 0F (-18C) nights"]
    filled = filler_knowledge(_knowledge(texts), token_counter(tokenizer))
    for original, filler in zip(texts, filled.pair_text):
        assert len(tokenizer(filler, add_special_tokens=False)["input_ids"]) == \
            len(tokenizer(original, add_special_tokens=False)["input_ids"])
        assert (filler == "") == (original == "")
    assert filler_text(3) == "the and of"


def test_bootstrap_p_value():
    assert two_sided_p(np.array([1.0] * 95 + [-1.0] * 5)) == pytest.approx(0.10)
    assert two_sided_p(np.array([1.0] * 100)) == 0.0
    assert two_sided_p(np.array([-1.0, 1.0])) == 1.0


def _result(encoder, head, task, replicates):
    return {"encoder": encoder, "head": head, "task": task,
            "_replicates": {b: {"macro_f1": np.array(v, dtype=float), "micro_f1": np.array(v, dtype=float)}
                            for b, v in replicates.items()}}


def test_primary_counts_only_when_it_beats_without_and_both_controls():
    clear = list(np.linspace(0.01, 0.05, 100))
    around_zero = list(np.linspace(-0.02, 0.03, 100))
    good = _result("cross", "mlp", "esci", {"without": clear, "shuffled": clear, "filler": clear})
    only_text = _result("cross", "mlp", "esci", {"without": clear, "shuffled": around_zero, "filler": clear})
    assert decide([good], ("cross", "mlp", "esci", "macro_f1"))["primary"] == ["cross", "mlp", "esci", "macro_f1"]
    assert good["decision"]["counts"] and good["decision"]["primary"] and "_replicates" not in good
    decide([only_text], ("cross", "mlp", "esci", "macro_f1"))
    assert not only_text["decision"]["counts"]  # longer input explains it: the shuffled control is as good
    assert only_text["decision"]["comparisons"]["shuffled"]["ci"][0] < 0


def test_secondaries_are_holm_adjusted():
    # three secondary comparisons with bootstrap p = 0.01, 0.02 and 0.04 (share of replicates <= 0 is p/2)
    def diffs(p):
        n_neg = int(round(p / 2 * 1000))
        return [-0.01] * n_neg + [0.02] * (1000 - n_neg)

    primary = _result("cross", "mlp", "esci", {"without": [0.1] * 10})
    secondary = _result("bi", "mlp", "esci", {"without": diffs(0.01), "shuffled": diffs(0.02), "filler": diffs(0.04)})
    summary = decide([primary, secondary], ("cross", "mlp", "esci", "macro_f1"))
    assert summary["family_size"] == 3
    c = secondary["decision"]["comparisons"]
    # Holm by hand: sorted p 0.01, 0.02, 0.04 -> 3*0.01, max(0.03, 2*0.02), max(0.04, 1*0.04)
    assert c["without"]["p_holm"] == pytest.approx(0.03)
    assert c["shuffled"]["p_holm"] == pytest.approx(0.04)
    assert c["filler"]["p_holm"] == pytest.approx(0.04)
    assert [c[b]["alpha"] for b in ("without", "shuffled", "filler")] == pytest.approx([0.05 / 3, 0.05 / 2, 0.05])
    assert secondary["decision"]["adjustment"] == "holm" and primary["decision"]["adjustment"].startswith("none")
    assert not primary["decision"]["counts"]  # no controls were run for it: it cannot count
    assert set(CONTROLS) == {"shuffled", "filler"}
