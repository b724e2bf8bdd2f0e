"""Few-shot examples drawn per prompt from the relation's pool, recorded on every candidate."""

from __future__ import annotations

from intentkg.generate.examples import default_shots, pick_shots
from intentkg.generate.prompts import load_template
from intentkg.generate.relations import load_schema

SCHEMA = load_schema()
EVENT = SCHEMA.relations["used_for_event"]


def test_every_relation_has_a_pool_of_examples_for_both_kinds():
    for relation in SCHEMA.relations.values():
        assert len(relation.examples["search_buy"]) >= 4 and len(relation.examples["co_buy"]) >= 2, relation.name


def test_shots_rotate_with_the_behaviour_and_are_deterministic():
    picks = {tuple(ex.left for _, ex in pick_shots(EVENT, f"b{i}", "search_buy", "x y", 2)) for i in range(40)}
    assert len(picks) >= 6  # forty behaviours are not all shown the birthday-candles example
    first = pick_shots(EVENT, "b1", "search_buy", "leather dog collar", 2)
    assert first == pick_shots(EVENT, "b1", "search_buy", "leather dog collar", 2)
    assert len(first) == 2 and first[0][0] == "search_buy"  # the behaviour's own kind comes first


def test_with_groups_the_behaviours_of_a_group_share_their_examples():
    def picks(groups: int) -> set:
        return {tuple(ex.left for _, ex in pick_shots(EVENT, f"b{i}", "search_buy", "x y", 2, groups=groups))
                for i in range(40)}

    assert len(picks(3)) <= 3 < len(picks(0))
    assert picks(1) == {tuple(ex.left for _, ex in pick_shots(EVENT, "any", "search_buy", "x y", 2, groups=1))}
    shown = [ex.left for i in range(40) for _, ex in pick_shots(EVENT, f"b{i}", "search_buy", "x y", 2, groups=8)]
    assert len(set(shown)) >= 4  # the groups still rotate over the pool


def test_examples_from_the_behaviours_domain_come_first():
    shots = pick_shots(SCHEMA.relations["used_with"], "b7", "search_buy", "dog collar -> Leather Dog Harness", 2)
    assert shots[0][1].left == "dog harness"
    assert pick_shots(EVENT, "b1", "co_buy", "x", 0) == []


def test_the_prompt_shows_the_chosen_examples_and_says_which():
    template = load_template("qa_fewshot")
    shots = pick_shots(EVENT, "b3", "search_buy", "dog collar", 2)
    rendered = template.render(EVENT, "search_buy", "dog collar", "Leather Dog Collar", shots)
    for _, ex in shots:
        assert f'"{ex.left}"' in rendered.prompt and all(t in rendered.prompt for t in ex.tails)
    assert rendered.shown == tuple(t for _, ex in shots for t in ex.tails)
    default = template.render(EVENT, "search_buy", "dog collar", "Leather Dog Collar")
    assert "a birthday party" in default.prompt and "walking the dog" in default.prompt
    assert default.shown == tuple(t for _, ex in default_shots(EVENT) for t in ex.tails)
    chat = load_template("qa_chat").render(EVENT, "co_buy", "a", "b", shots)
    assert len(chat.messages) == 1 + 2 * len(shots) + 1 and chat.shown == rendered.shown


def test_a_type_level_prompt_names_the_type():
    rendered = load_template("qa_fewshot").render(EVENT, "product_type", "dog collar", "dog collar", [])
    assert rendered.prompt.rstrip().endswith('A customer bought "dog collar". What event or activity is the '
                                              'product used for?\nAnswer: The product is used for the activity of\n1.')
