"""Two annotators per item, resolver and audit queues, holds, undo and blindness."""

from __future__ import annotations

from helpers.annotate_helpers import YES, make_items, make_store

from intentkg.annotate.assignment import Queue
from intentkg.annotate.labels import final_labels

NO_TYPICAL = dict(YES, typicality=False)


def test_two_annotators_per_item_then_nothing_for_a_third(tmp_path):
    store, users, _ = make_store(tmp_path, n=1)
    q = Queue(store)
    first = q.next_item(users["ann1"])
    assert q.next_item(users["ann1"]).item_id == first.item_id  # a reload shows the held item
    assert q.next_item(users["ann2"]).item_id == first.item_id
    assert q.next_item(users["ann3"]) is None  # both slots are held
    assert q.submit(users["ann1"], first.item_id, YES).status == "stored"
    assert q.submit(users["ann1"], first.item_id, YES).status == "duplicate"
    assert q.submit(users["ann1"], first.item_id, NO_TYPICAL).status == "conflict"
    assert q.submit(users["ann2"], first.item_id, YES).ok
    assert q.submit(users["ann3"], first.item_id, YES).status == "full"
    assert q.next_item(users["ann1"]) is None


def test_pilot_first_and_half_done_items_before_new_ones(tmp_path):
    store, users, _ = make_store(tmp_path, n=3)
    store.add_items(make_items(2, batch="pilot", prefix="p"))
    q = Queue(store)
    assert q.next_item(users["ann1"]).batch == "pilot"
    held = q.next_item(users["ann1"]).item_id
    assert q.next_item(users["ann2"]).item_id == held  # the item ann1 already holds comes first


def test_expired_holds_are_released(tmp_path):
    store, users, _ = make_store(tmp_path, n=1)
    q = Queue(store, hold_seconds=0)
    item = q.next_item(users["ann1"])
    assert q.next_item(users["ann2"]).item_id == item.item_id
    assert q.next_item(users["ann3"]).item_id == item.item_id  # the other holds expired at once
    assert q.submit(users["ann2"], item.item_id, YES).ok and q.submit(users["ann3"], item.item_id, YES).ok
    assert q.submit(users["ann1"], item.item_id, YES).status == "full"  # late: the item has its two answers


def test_disagreement_goes_to_a_resolver_who_did_not_annotate(tmp_path):
    store, users, _ = make_store(tmp_path, n=2)
    q = Queue(store)
    for name, values in (("ann1", YES), ("ann2", NO_TYPICAL)):
        item = q.next_item(users[name])
        assert q.submit(users[name], item.item_id, values).ok
    assert q.next_dispute(users["ann1"]) is None  # annotators do not resolve
    dispute = q.next_dispute(users["res"])
    assert dispute.disputed == ["typicality"] and len(dispute.answers) == 2
    assert q.resolve(users["ann1"], dispute.item.item_id, {"typicality": True}).status == "forbidden"
    assert q.resolve(users["res"], dispute.item.item_id, {"typicality": False}).status == "stored"
    assert q.resolve(users["boss"], dispute.item.item_id, {"typicality": True}).status == "full"
    label = final_labels(store.answers())[dispute.item.item_id]
    assert label.status == "resolved" and label.values["typicality"] is False and label.resolver == "res"
    assert q.undo(users["ann1"]).status == "forbidden"  # resolved since


def test_undo_gives_the_item_back(tmp_path):
    store, users, _ = make_store(tmp_path, n=3)
    q = Queue(store)
    item = q.next_item(users["ann1"])
    q.submit(users["ann1"], item.item_id, YES)
    assert q.undo(users["ann1"]).message == item.item_id
    assert store.answers() == []
    assert q.next_item(users["ann1"]).item_id == item.item_id
    assert q.submit(users["ann1"], item.item_id, NO_TYPICAL).ok
    assert store.answers()[0].values["typicality"] is False
    assert q.undo(users["ann2"]).status == "missing"


def test_audit_needs_a_final_label_and_a_fresh_pair_of_eyes(tmp_path):
    store, users, _ = make_store(tmp_path, n=0)
    items = make_items(2)
    items[0].audit = True
    store.add_items(items)
    q = Queue(store)
    assert q.next_audit(users["res"]) is None
    for name in ("ann1", "ann2"):
        for _ in range(2):
            item = q.next_item(users[name])
            q.submit(users[name], item.item_id, YES)
    review = q.next_audit(users["res"])
    assert review.item.item_id == "c000" and review.answers == []  # auditors work blind
    assert q.audit(users["res"], "c000", dict(YES, relevance=False)).ok
    assert q.next_audit(users["boss"]) is None  # one audit per item
    assert q.progress(users["ann1"])["audited"] == 1


def test_a_blind_answer_is_refused_kept_aside_and_takes_no_slot(tmp_path):
    """Old code stored an answer for any item id: ann3's blind answer took the last slot of an item ann1
    and ann2 held, and ann2's answer was then refused as 'full' and lost."""
    store, users, _ = make_store(tmp_path, n=1)
    q = Queue(store)
    item = q.next_item(users["ann1"])
    assert q.next_item(users["ann2"]).item_id == item.item_id
    blind = q.submit(users["ann3"], item.item_id, YES)
    assert blind.status == "not_assigned" and "not given to you" in blind.message
    assert [(r["item_id"], r["annotator"], r["reason"].split(":")[0]) for r in store.refused_answers()] == [
        (item.item_id, "ann3", "not_assigned")]
    assert q.submit(users["ann1"], item.item_id, YES).status == "stored"
    assert q.submit(users["ann2"], item.item_id, NO_TYPICAL).status == "stored"
    assert sorted(a.annotator for a in store.answers()) == ["ann1", "ann2"]


def test_an_expired_hold_still_counts_until_someone_else_takes_the_place(tmp_path):
    store, users, _ = make_store(tmp_path, n=1)
    q = Queue(store, hold_seconds=0)
    item = q.next_item(users["ann1"])
    assert q.submit(users["ann1"], item.item_id, YES).status == "stored"  # expired, but nobody took the place
    q.next_item(users["ann2"]), q.next_item(users["ann3"])  # both want the last place
    assert q.submit(users["ann2"], item.item_id, YES).status == "stored"
    late = q.submit(users["ann3"], item.item_id, NO_TYPICAL)
    assert late.status == "full" and "expired" in late.message
    kept = store.refused_answers()
    assert [(r["annotator"], r["typicality"]) for r in kept] == [("ann3", 0)]  # kept aside, with its values


def test_undo_after_both_answers_says_nothing_about_the_other_answer(tmp_path):
    """Old code: undo worked on an item whose two answers agreed and was refused ("resolved since") on one
    whose answers disagreed and was resolved, so undo revealed how the other annotator had answered."""

    def undo_after(other_answer, folder):
        store, users, _ = make_store(folder, n=1)
        q = Queue(store)
        item = q.next_item(users["ann1"])
        assert q.next_item(users["ann2"]).item_id == item.item_id
        q.submit(users["ann1"], item.item_id, YES)
        q.submit(users["ann2"], item.item_id, other_answer)
        dispute = q.next_dispute(users["res"])
        if dispute is not None:
            assert q.resolve(users["res"], item.item_id, {"typicality": True}).ok
        result = q.undo(users["ann1"])
        return result.status, result.message

    agreed, resolved = undo_after(YES, tmp_path / "agree"), undo_after(NO_TYPICAL, tmp_path / "disagree")
    assert agreed == resolved and agreed[0] == "forbidden"
