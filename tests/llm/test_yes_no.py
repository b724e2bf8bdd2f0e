"""P(yes) from the bundled SmolLM2's next-token log-probs through llama.cpp."""

import pytest

from intentkg.llm.yes_no import YesNoScorer


@pytest.fixture(scope="module")
def scorer():
    scorer = YesNoScorer("smollm2-135m-instruct", n_threads=1)
    yield scorer
    scorer.close()


def ask(text):
    return [{"role": "user", "content": text}]


def test_yes_and_no_are_not_swapped(scorer):
    assert scorer.probability(ask("Reply with the word yes.")) > 0.6
    assert scorer.probability(ask("Reply with the word no.")) < 0.3


def test_a_prompt_scores_the_same_after_another_shares_its_beginning(scorer):
    first = scorer.probability(ask("Is a tent used for camping? Answer yes or no."))
    scorer.probability(ask("Is a tent used for baking? Answer yes or no."))  # reuses the shared prefix
    assert scorer.probability(ask("Is a tent used for camping? Answer yes or no.")) == pytest.approx(first, abs=1e-3)
    scorer.llm.reset()
    assert scorer.probability(ask("Is a tent used for camping? Answer yes or no.")) == pytest.approx(first, abs=1e-3)
    assert scorer.yes_ids and scorer.no_ids and not set(scorer.yes_ids) & set(scorer.no_ids)


def test_a_prompt_longer_than_the_context_is_a_clear_error(scorer):
    from intentkg.errors import ConfigError

    with pytest.raises(ConfigError, match="does not fit the context"):
        scorer.probability(ask("word " * 1200))
