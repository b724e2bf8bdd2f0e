"""Copies of the prompt's worked answers, exact or near, unless the behaviour itself names them."""

from __future__ import annotations

from intentkg.filter.config import RulesConfig
from intentkg.filter.copies import CopyChecker, ExampleSet, stems, supported
from intentkg.filter.rules import RuleChecker
from intentkg.filter.text import core, normalize

SHOWN = ["a birthday party", "decorating a cake", "an anniversary celebration", "walking the dog"]


def _key(text: str) -> str:
    return core(normalize(text))


def test_exact_and_near_copies_match_the_example_they_copy():
    examples = ExampleSet(SHOWN)
    assert examples.match(_key("A birthday party.")) == "a birthday party"
    assert examples.match(_key("birthday parties")) == "a birthday party"
    assert examples.match(_key("a kid's birthday party")) == "a birthday party"  # two words around it
    assert examples.match(_key("decorating cakes")) == "decorating a cake"
    assert examples.match(_key("anniversary celebration")) == "an anniversary celebration"
    assert examples.match(_key("cake")) is None  # one word inside an example is not a copy
    assert examples.match(_key("a long weekend of hiking in the mountains")) is None
    assert examples.match(_key("a surprise birthday party for my best friend")) is None  # too much around it


def test_stems_and_support():
    assert stems("Walking the dogs") == {"walk", "dog"}
    assert supported("a birthday party", "birthday candles", "Gold Number Candles")
    assert supported("camping trips", "Camp Stove")
    assert not supported("a birthday party", "dog collar", "Leather Dog Collar")
    assert not supported("", "dog collar")


def test_the_rule_flags_copies_its_prompt_showed_that_the_behaviour_does_not_name():
    checker = RuleChecker(RulesConfig())
    copied = checker.check_row("a birthday party", "used_for_event", "ok", "search_buy", "dog collar",
                               "Leather Dog Collar for Large Dogs", shown=SHOWN)
    assert "copied_example" in copied.flags
    assert "'a birthday party' its prompt showed" in copied.details[copied.flags.index("copied_example")]
    fits = checker.check_row("a birthday party", "used_for_event", "ok", "search_buy", "birthday candles",
                             "Gold Number Candles 0-9 Cake Topper", shown=SHOWN)
    assert "copied_example" not in fits.flags
    not_shown = checker.check_row("a wedding", "used_for_event", "ok", "search_buy", "dog collar",
                                  "Leather Dog Collar", shown=SHOWN)
    assert "copied_example" not in not_shown.flags
    off = RuleChecker(RulesConfig(copies=False)).check_row(
        "a birthday party", "used_for_event", "ok", "search_buy", "dog collar", "Leather Dog Collar", shown=SHOWN)
    assert "copied_example" not in off.flags


def test_candidates_without_a_record_use_the_relations_default_shots():
    checker = RuleChecker(RulesConfig(), default_shown={"used_for_event": SHOWN})
    old = checker.check_row("a birthday party", "used_for_event", "ok", "search_buy", "knife set",
                            "Kitchen Knife Set 15 Pieces", shown=None)
    assert "copied_example" in old.flags
    other = checker.check_row("a birthday party", "xWant", "ok", "search_buy", "knife set", "Knife Set", shown=None)
    assert "copied_example" not in other.flags
    assert CopyChecker().match("birthday party", []) is None
