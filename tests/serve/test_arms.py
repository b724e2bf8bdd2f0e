"""Hash bucketing: deterministic, salted by experiment, shares as planned, independent of the id's form."""

from __future__ import annotations

import hashlib

import pytest
from scipy import stats

from intentkg.serve.arms import Arms


def test_assignment_is_deterministic_and_has_the_planned_share():
    arms = Arms("kg-1", knowledge_share=0.1)
    units = [f"session-{i}" for i in range(20_000)]
    first = [arms.assign(u).arm for u in units]
    assert first == [Arms("kg-1", 0.1).assign(u).arm for u in units]
    treated = first.count("treatment")
    assert stats.binomtest(treated, len(units), 0.1).pvalue > 0.001
    # the bucket is sha256("experiment\x1funit"), first 8 bytes, mod 10,000 (documented, reproducible anywhere)
    digest = hashlib.sha256("kg-1\x1fsession-0".encode()).digest()
    assert arms.bucket("session-0") == int.from_bytes(digest[:8], "big") % 10_000


def test_a_new_experiment_id_reshuffles_units():
    a, b = Arms("kg-1", 0.5), Arms("kg-2", 0.5)
    units = [f"u{i}" for i in range(10_000)]
    same = sum(a.assign(u).arm == b.assign(u).arm for u in units)
    assert 0.47 < same / len(units) < 0.53  # independent: half agree by chance


def test_share_bounds_and_bad_ids():
    assert all(Arms("x", 0.0).assign(f"u{i}").arm == "control" for i in range(500))
    assert all(Arms("x", 1.0).assign(f"u{i}").knowledge for i in range(500))
    with pytest.raises(ValueError):
        Arms("x", 1.5)
    with pytest.raises(ValueError):
        Arms("has space", 0.5)
