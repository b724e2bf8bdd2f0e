"""Held-out behaviours and held-out labels are chosen by hash and never overlap what the reward saw."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from intentkg.errors import IntentkgError
from intentkg.refine.split import critic_fitted_ids, is_heldout, require_usable, split_labels


def _labels(n):
    return [{"candidate_id": f"c{i}", "head": f"query {i % 40} -> Product {i % 40}", "kind": "search_buy",
             "relation": "used_for_event", "tail": f"tail {i}", "plausibility": bool(i % 3),
             "typicality": None} for i in range(n)]


def test_the_share_is_roughly_kept_and_the_choice_is_stable_and_whitespace_blind():
    heads = [f"query {i} -> Product {i}" for i in range(2000)]
    share = sum(is_heldout(h, 0.25) for h in heads) / len(heads)
    assert 0.21 < share < 0.29
    assert is_heldout(heads[7], 0.25) == is_heldout("query  7 ->   Product 7", 0.25)
    assert [is_heldout(h, 0.25, seed=1) for h in heads] != [is_heldout(h, 0.25) for h in heads]


def test_three_disjoint_parts(tmp_path):
    labels = _labels(200)
    folder = tmp_path / "critic"
    folder.mkdir()
    fitted = [("c%d" % i, "train" if i < 40 else "dev" if i < 60 else "test") for i in range(80)]
    pq.write_table(pa.table({"candidate_id": [c for c, _ in fitted], "split": [s for _, s in fitted]}),
                   folder / "training_labels.parquet")
    seen = critic_fitted_ids(folder)
    assert seen == {f"c{i}" for i in range(60)}  # the test split only measured the critic
    split = split_labels(labels, seen, 0.3)
    held = {r["candidate_id"] for r in split.heldout}
    guard = {r["candidate_id"] for r in split.guard_critic}
    assert not held & guard and not held & seen and not guard & seen
    assert len(held) + len(guard) + split.reward_seen == 200
    assert all(is_heldout(r["head"], 0.3) for r in split.heldout)
    assert not any(is_heldout(r["head"], 0.3) for r in split.guard_critic)
    # a head is never on both sides
    assert not {r["head"] for r in split.heldout} & {r["head"] for r in split.guard_critic}
    assert split.heldout_hash != split_labels(labels, seen, 0.6).heldout_hash


def test_too_few_labels_is_a_clear_error():
    split = split_labels(_labels(6), set(), 0.3)
    with pytest.raises(IntentkgError, match="Annotate more"):
        require_usable(split, "ws")
