"""The refine reward on hand-written answers: the filter's own rules, the input-paraphrase check, the
generic-tail window, the trained critic and the weighted sum TRL forms from the components."""

from __future__ import annotations

import math

import pytest

from intentkg.filter.config import FilterConfig
from intentkg.operating_point import OperatingPoint
from intentkg.refine.config import RewardSettings
from intentkg.refine.reward import Behaviour, Reward, trl_reward_funcs

TENT = Behaviour("p1", "b1", "search_buy", "winter tent -> Summit 4-Season Dome Tent", "used_for_event",
                 "winter tent", "Summit 4-Season Dome Tent", cue="The product is used for",
                 shown=("hiking in the rain", "a birthday party"))
WEIGHTS = {"parses": 0.5, "rules": 1.0, "plausibility": 1.0, "typicality": 0.5}


@pytest.fixture
def reward(reward_critic, minilm):
    r = Reward(RewardSettings(weights=WEIGHTS), FilterConfig(), OperatingPoint(), reward_critic, minilm)
    yield r
    r.close()


def test_each_rule_fires_through_the_filter_code(reward):
    answers = ["1. winter camping trips\n2. snow camping in the mountains",  # both pass
               "1. winter tent",  # echoes the query
               "1. because they like it",  # circular
               "1. a birthday party",  # the prompt's worked answer, no word of it in the behaviour
               "I am a helpful assistant and I cannot",  # no list, no item that parses as a tail
               ""]
    scored = reward.score([TENT] * len(answers), answers)
    good, echo, circular, copied, junk, empty = scored
    assert good.items == ["winter camping trips", "snow camping in the mountains"]
    assert good.components["parses"] == 1.0 and good.components["rules"] == 1.0
    assert echo.components["rules"] == 0.0 and any(f.startswith("echo_") for f in echo.flags[0])
    assert "circular" in circular.flags[0]
    assert "copied_example" in copied.flags[0]
    assert empty.items == [] and empty.components == {"parses": 0.0, "rules": 0.0, "plausibility": 0.0,
                                                      "typicality": 0.0}
    assert junk.components["rules"] < 1.0 or not junk.items
    # a failed item counts 0 for the critic components: an echo is worth less than a passing answer
    assert echo.components["plausibility"] == 0.0 and good.components["plausibility"] > 0.0
    assert good.total > max(s.total for s in (echo, circular, copied, empty))


def test_total_is_the_weighted_sum_and_trl_gets_one_function_per_component(reward):
    scored = reward.score([TENT, TENT], ["1. winter camping trips", "1. because they like it"], remember=False)
    for s in scored:
        expected = sum(WEIGHTS[c] * s.components[c] for c in WEIGHTS)
        assert math.isclose(s.total, expected, rel_tol=1e-9)
    funcs, weights = trl_reward_funcs(reward, {"p1": TENT}.__getitem__)
    assert [f.__name__ for f in funcs] == list(WEIGHTS) and weights == list(WEIGHTS.values())
    completions = [[{"role": "assistant", "content": "1. winter camping trips"}],
                   [{"role": "assistant", "content": "1. because they like it"}]]
    per_function = [f(prompts=["x", "x"], completions=completions, prompt_id=["p1", "p1"]) for f in funcs]
    totals = [sum(w * values[i] for w, values in zip(weights, per_function)) for i in range(2)]
    assert totals[0] > totals[1]
    assert per_function[1] == [1.0, 0.0]  # rules: passes / circular


def test_a_paraphrase_of_the_title_is_flagged(reward):
    scored = reward.score([TENT], ["1. a summit four season dome tent for winter"], remember=False)
    assert "input_paraphrase" in scored[0].flags[0] or any(f.startswith(("echo_", "restates")) for f in scored[0].flags[0])


def test_a_tail_spammed_across_unrelated_products_becomes_generic(minilm):
    reward = Reward(RewardSettings(weights={"rules": 1.0}), FilterConfig(), OperatingPoint(), None, minilm)
    products = ["Garden Hose 50 ft", "Chef Knife 8 inch", "Yoga Mat Thick", "Dog Leash Reflective",
                "Baby Bottle Set", "Desk Lamp LED", "Sunscreen SPF 50", "Cast Iron Skillet"]
    behaviours = [Behaviour(f"p{i}", f"b{i}", "search_buy", f"gift -> {t}", "used_for_event", "gift", t)
                  for i, t in enumerate(products)]
    first = reward.score(behaviours[:2], ["1. everyday life at home"] * 2)
    assert "generic" not in first[0].flags[0]  # two heads: not generic yet
    later = reward.score(behaviours, ["1. everyday life at home"] * len(behaviours))
    assert all("generic" in s.flags[0] for s in later)
    reward.close()
