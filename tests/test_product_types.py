"""A product type from the title when the catalogue has none."""

from __future__ import annotations

import pytest

from intentkg.product_types import head_noun, product_type, title_type


@pytest.mark.parametrize("title, expected", [
    ("Retractable Dog Leash 16 ft, Heavy Duty", "dog leash"),
    ("Gold Number Candles 0-9 Cake Topper", "cake topper"),
    ("Silicone Baby Bibs Set of 3", "baby bib"),
    ("Non-Slip Exercise Mat 6 mm", "exercise mat"),
    ("Women's Stretch Scrub Top with Pockets", "scrub top"),
    ("Copy Paper 8.5 x 11, 500 Sheets", "copy paper"),
    ("Squirrel-Proof Hanging Bird Feeder (Black)", "bird feeder"),
    ("Knife Set | 15 Pieces", "knife"),
    ("12345 - 678", ""),
    ("", ""),
])
def test_the_type_is_the_last_words_of_the_titles_first_part(title, expected):
    assert title_type(title) == expected


def test_head_noun_and_a_declared_type_wins():
    assert head_noun("Leather Dog Collar for Large Dogs") == "collar"
    assert head_noun("0000") == ""
    assert product_type("Dog Collar ", "Something Else Entirely") == "dog collar"
    assert product_type(None, "Leather Dog Collar for Large Dogs") == "dog collar"
