"""A tail far from its behaviour's texts is unrelated to it."""

from __future__ import annotations

import math

from intentkg.filter.similarity import unrelated


def test_tails_below_the_floor_are_unrelated_and_unknown_ones_pass():
    found = unrelated([0.05, 0.2, 0.6, None, math.nan, 0.19], 0.2)
    assert [i for i, _ in found] == [0, 5]
    assert found[0][1] == "cosine to the query and title 0.05 < 0.2: about something else"
    assert unrelated([0.0, 0.1], None) == []
