"""Each rule fires on the failure mode it names, says why, and leaves good tails alone."""

from __future__ import annotations

import pytest

from intentkg.filter.config import RulesConfig
from intentkg.filter.rules import RuleChecker
from intentkg.filter.text import core, normalize, relation_text

CHECKER = RuleChecker(RulesConfig())
TENT = "Trailblazer 2-Person Dome Tent"


def check(tail, relation="used_for_event", status="ok", kind="co_buy", left="Summit Mummy Sleeping Bag 20F",
          right=TENT, types=("sleeping bag", "tent")):
    return CHECKER.check_row(tail, relation, status, kind, left, right, types)


@pytest.mark.parametrize("tail", ["winter camping", "keeping a baby warm at night", "dry face", "bedroom",
                                  "a watering can",
                                  "walk the dog", "Music festivals.", "sensitive skin (eczema)"])
def test_good_tails_have_no_flags(tail):
    result = check(tail)
    assert result.flags == [], result.details
    assert result.key


@pytest.mark.parametrize("tail,flag", [
    (None, "parse_failed"), ("   ", "parse_failed"),
    ("it", "too_short"), (" ".join(["word"] * 25), "too_long"),
    ("keeping the baby warm at", "incomplete"), ("cooking and", "incomplete"), ("for use with,", "incomplete"),
    ("camping trips...", "incomplete"), ("camping (in winter", "incomplete"),
    ("play in the sea<start_of_image>", "incomplete"), ("walk the dog<eos>", "incomplete"),
    ("tent", "echo_product_type"), ("a type of tent", "echo_product_type"), ("Tents", "echo_product_type"),
    ("sleeping bag", "echo_product_type"),
    ("Trailblazer 2 person dome tent", "echo_title"), ("Trailblazer 2-Person Dome Tnet", "echo_title"),
    ("because they like it", "circular"), ("for the same reason", "circular"), ("They need them.", "circular"),
    ("personal preference", "circular"), ("they go well together", "circular"), ("it is useful", "circular"),
    ("to use it together", "empty_reason"), ("for the same purpose", "empty_reason"),
])
def test_failure_modes_are_flagged(tail, flag):
    result = check(tail)
    assert flag in result.flags, (tail, result.flags)
    detail = result.details[result.flags.index(flag)]
    assert detail and isinstance(detail, str)


def test_echo_of_the_query_for_search_buy():
    result = check("winter camping tent", kind="search_buy", left="winter camping tent")
    assert result.flags == ["echo_query"]
    assert "winter camping tent" in result.details[0]


def test_parse_failure_keeps_the_status_in_the_detail():
    result = check(None, status="truncated")
    assert result.flags == ["parse_failed"] and "truncated" in result.details[0]
    assert result.key is None


def test_malformed_and_unknown_relations():
    assert "malformed_relation" in check("winter camping", relation="used for!").flags
    assert "malformed_relation" in check("winter camping", relation="used_for_fun").flags
    custom = RuleChecker(RulesConfig(extra_relations=["used_for_fun"]))
    assert custom.check_row("winter camping", "used_for_fun", "ok", "co_buy", "a", "b").flags == []
    anything = RuleChecker(RulesConfig(relations=None))
    assert anything.check_row("winter camping", "whatever_rel", "ok", "co_buy", "a", "b").flags == []


def test_small_edit_distance_scales_with_length():
    # 'bag' vs 'hat' is 2 edits, but a 3-letter type allows no edit at all
    assert check("hat", types=("bag",)).flags == []
    assert "echo_product_type" in check("sleping bag").flags


def test_thresholds_are_configurable():
    strict = RuleChecker(RulesConfig(min_words=3, max_words=4))
    assert "too_short" in strict.check_row("dry face", "used_in_body", "ok", "co_buy", "a", "b").flags
    assert "too_long" in strict.check_row("one two three four five", "used_in_body", "ok", "co_buy", "a", "b").flags
    containment = RuleChecker(RulesConfig(echo_containment=True))
    assert "echo_title" in containment.check_row("dome tent", "used_with", "ok", "co_buy", "x", TENT).flags


def test_several_flags_on_one_tail():
    result = check("because they like the")
    assert {"incomplete"} <= set(result.flags)
    assert len(result.flags) == len(result.details)


def test_normalisation():
    assert normalize("  Camping_Trips!!  ") == "camping trips"
    assert core(normalize("It is a type of Tents")) == "tent"
    assert normalize("ＴＥＮＴ") == "tent"  # NFKC
    assert normalize("キャンプ用品") == "キャンプ用品"
    assert relation_text("used_for_event") == "used for event" and relation_text("xWant") == "x want"


def test_batch_interface_matches_rows():
    cols = {"tail": ["winter camping", "tent"], "relation": ["used_for_event"] * 2, "parse_status": ["ok"] * 2,
            "kind": ["co_buy"] * 2, "left_text": ["a", "b"], "right_text": [TENT, TENT],
            "left_type": [None, None], "right_type": ["tent", "tent"]}
    results = CHECKER.check(cols)
    assert [r.flags for r in results] == [[], ["echo_product_type"]]


@pytest.mark.parametrize("tail", ["leather dog collars", "a dog collar", "collars"])
def test_a_tail_that_names_the_product_itself_is_a_restatement(tail):
    result = CHECKER.check_row(tail, "is_a", "ok", "search_buy", "collar for big dogs",
                               "Leather Dog Collar for Large Dogs, Brown")
    assert "restates_product" in result.flags or "echo_product_type" in result.flags, result.flags


@pytest.mark.parametrize("tail, title", [
    ("a table cloth", "Waterproof Tablecloth for Rectangle Tables"),
    ("table-cloths", "Waterproof Tablecloth for Rectangle Tables"),
    ("a tablecloth", "Vinyl Table Cloth, 60 x 84"),
    ("wall paper", "Peel and Stick Wallpaper, 17.7 in x 118 in"),
])
def test_a_compound_written_otherwise_is_a_restatement(tail, title):
    """"a table cloth" names a Tablecloth as much as "tablecloth" does (seen in the catalogue's answers)."""
    result = CHECKER.check_row(tail, "used_with", "ok", "search_buy", "q", title)
    assert {"restates_product", "echo_product_type"} & set(result.flags), (result.flags, result.details)


@pytest.mark.parametrize("tail", ["a table", "table runner", "a cloth napkin", "wall hooks"])
def test_part_of_a_compound_is_not_a_restatement(tail):
    for title in ("Waterproof Tablecloth for Rectangle Tables", "Peel and Stick Wallpaper, 17.7 in x 118 in"):
        result = CHECKER.check_row(tail, "used_with", "ok", "search_buy", "q", title)
        assert "restates_product" not in result.flags, (tail, title, result.details)


def test_without_a_catalogue_type_the_titles_type_is_echoed():
    result = CHECKER.check_row("dog leashes", "is_a", "ok", "search_buy", "leash", "Retractable Dog Leash 16 ft")
    assert "echo_product_type" in result.flags
    assert "'dog leash'" in result.details[result.flags.index("echo_product_type")]


@pytest.mark.parametrize("tail", ["walking the dog", "dog owners", "the kitchen", "curly hair", "cleaning"])
def test_knowledge_about_the_product_is_not_a_restatement(tail):
    for title in ("Leather Dog Collar for Large Dogs", "Kitchen Knife Set", "Curl Defining Cream for Curly Hair",
                  "Dirt Devil Endura Reach Bagless Upright Vacuum Cleaner"):  # "cleaning" for a cleaner: its use
        result = CHECKER.check_row(tail, "used_for_audience", "ok", "search_buy", "q", title)
        assert "restates_product" not in result.flags, (tail, title, result.details)
