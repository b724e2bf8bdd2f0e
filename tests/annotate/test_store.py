"""The SQLite store: WAL mode, idempotent inserts, one answer per person, item and role."""

from __future__ import annotations

from helpers.annotate_helpers import YES, make_items

from intentkg.annotate.store import Answer, Store


def test_wal_and_idempotent_items(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    with store.connect() as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.add_items(make_items(3)) == 3
    assert store.add_items(make_items(4)) == 1  # only the new one
    assert [i.item_id for i in store.items()] == ["c000", "c001", "c002", "c003"]
    assert store.item("c000").right_text.startswith("<script>")  # stored as given; escaped when shown


def test_one_answer_per_person_item_and_role(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    store.add_items(make_items(1))
    a = Answer("c000", "ann1", "annotator", YES)
    assert store.add_answers([a, a]) == 1
    assert store.add_answers([Answer("c000", "ann1", "resolver", YES)]) == 1
    assert len(store.answers()) == 2 and len(store.answers(role="annotator")) == 1
    assert store.answers_for("c000")[0].values == YES


def test_reopening_keeps_content(tmp_path):
    Store(tmp_path / "s.sqlite").add_items(make_items(2))
    assert Store(tmp_path / "s.sqlite").count_items() == 2
