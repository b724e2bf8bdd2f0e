"""Who answers what: two annotators per item, a resolver queue for disagreements, an audit queue.

Every decision runs inside one ``BEGIN IMMEDIATE`` transaction, so two people asking for work at
the same moment never both take the last open slot of an item. An annotator holds an item from
the moment it is shown until it is answered; a hold older than ``hold_seconds`` is released so a
closed browser tab does not block the item for ever. A person can answer only an item given to
them (held, or held once and not taken by others since); every refused answer is kept in
``refused_answers`` with its reason, and the person is told why.

Blindness: nothing here returns another person's answers to an annotator. Only :meth:`dispute`
(for resolvers who did not answer the item themselves) shows the two answers.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from intentkg.annotate.questions import NAMES
from intentkg.annotate.store import Answer, Item, Store, now
from intentkg.annotate.tokens import User

PER_ITEM = 2
HOLD_SECONDS = 30 * 60


REFUSALS_KEPT = ("not_assigned", "full", "forbidden")  # refused answers stored in refused_answers


@dataclass
class Result:
    status: str  # stored | duplicate | conflict | full | not_assigned | missing | forbidden
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("stored", "duplicate")


@dataclass
class Dispute:
    item: Item
    answers: list[dict[str, bool | None]]  # the two annotators' answers, anonymised
    disputed: list[str]  # questions they disagree on


def _cutoff(hold_seconds: int) -> str:
    return (datetime.now(timezone.utc) - timedelta(seconds=hold_seconds)).isoformat(timespec="milliseconds")


class Queue:
    def __init__(self, store: Store, per_item: int = PER_ITEM, hold_seconds: int = HOLD_SECONDS):
        self.store, self.per_item, self.hold_seconds = store, per_item, hold_seconds

    # -- annotators -----------------------------------------------------------------------
    def next_item(self, user: User) -> Item | None:
        """The item this person holds, or a new one: pilot first, half-done items next, then seq."""
        with self.store.transaction() as con:
            row = con.execute(
                "SELECT i.* FROM assignments a JOIN items i USING (item_id) WHERE a.annotator = ? "
                "AND a.role = 'annotator' AND NOT EXISTS (SELECT 1 FROM answers x WHERE x.item_id = a.item_id "
                "AND x.annotator = a.annotator AND x.role = 'annotator') ORDER BY a.assigned_at DESC LIMIT 1",
                (user.name,)).fetchone()
            if row is None:
                row = con.execute(
                    f"""SELECT i.*, {self._taken_sql()} AS taken FROM items i
                    WHERE NOT EXISTS (SELECT 1 FROM answers x WHERE x.item_id = i.item_id AND x.annotator = :me)
                      AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = i.item_id
                                      AND a.annotator = :me AND a.role = 'annotator')
                      AND taken < :per_item
                    ORDER BY CASE i.batch WHEN 'pilot' THEN 0 ELSE 1 END, taken DESC, i.seq LIMIT 1""",
                    {"me": user.name, "per_item": self.per_item, "cutoff": _cutoff(self.hold_seconds)}).fetchone()
                if row is None:
                    return None
                con.execute("INSERT OR REPLACE INTO assignments VALUES (?, ?, 'annotator', ?)",
                            (row["item_id"], user.name, now()))
            return Item.from_row(row)

    @staticmethod
    def _taken_sql() -> str:
        """Answers plus live holds by others: the slots of an item already spoken for."""
        return ("((SELECT COUNT(*) FROM answers x WHERE x.item_id = i.item_id AND x.role = 'annotator') + "
                "(SELECT COUNT(*) FROM assignments a WHERE a.item_id = i.item_id AND a.role = 'annotator' "
                "AND a.assigned_at > :cutoff AND NOT EXISTS (SELECT 1 FROM answers x WHERE x.item_id = a.item_id "
                "AND x.annotator = a.annotator AND x.role = 'annotator')))")

    def submit(self, user: User, item_id: str, values: dict[str, bool | None],
               seconds: float | None = None) -> Result:
        return self._store_answer(user, item_id, values, "annotator", seconds)

    def _store_answer(self, user: User, item_id: str, values: dict[str, bool | None], role: str,
                      seconds: float | None) -> Result:
        with self.store.transaction() as con:
            if con.execute("SELECT 1 FROM items WHERE item_id = ?", (item_id,)).fetchone() is None:
                return Result("missing", f"no item {item_id!r}")
            mine = con.execute(f"SELECT {', '.join(NAMES)} FROM answers WHERE item_id = ? AND annotator = ? "
                               "AND role = ?", (item_id, user.name, role)).fetchone()
            if mine is not None:
                same = all((None if mine[q] is None else bool(mine[q])) == values.get(q) for q in NAMES)
                return Result("duplicate" if same else "conflict",
                              "already stored" if same else "you already answered this item; use undo to change it")
            problem = self._check_role(con, user, item_id, role) or self._check_assignment(con, user, item_id, role)
            if problem:
                if problem.status in REFUSALS_KEPT:  # the answer is kept aside, never silently dropped
                    con.execute(f"INSERT INTO refused_answers (item_id, annotator, role, {', '.join(NAMES)}, reason, "
                                f"created_at) VALUES (?, ?, ?, {', '.join('?' for _ in NAMES)}, ?, ?)",
                                (item_id, user.name, role,
                                 *[None if values.get(q) is None else int(values[q]) for q in NAMES],
                                 f"{problem.status}: {problem.message}", now()))
                return problem
            self.store.insert_answer(con, Answer(item_id, user.name, role, values, seconds=seconds))
            con.execute("DELETE FROM assignments WHERE item_id = ? AND annotator = ? AND role = ?",
                        (item_id, user.name, role))
        return Result("stored")

    def _check_assignment(self, con: sqlite3.Connection, user: User, item_id: str, role: str) -> Result | None:
        """Only what was given to this person may be answered; a hold counts until it expires."""
        held = con.execute("SELECT assigned_at FROM assignments WHERE item_id = ? AND annotator = ? AND role = ?",
                           (item_id, user.name, role)).fetchone()
        if held is None:
            return Result("not_assigned", "this item was not given to you; answer the item your page shows")
        if role != "annotator" or held["assigned_at"] > _cutoff(self.hold_seconds):
            return None
        # the hold expired: the answer still counts if nobody took the slot meanwhile
        taken = con.execute(
            "SELECT (SELECT COUNT(*) FROM answers WHERE item_id = :item AND role = 'annotator') + "
            "(SELECT COUNT(*) FROM assignments a WHERE a.item_id = :item AND a.role = 'annotator' "
            "AND a.annotator <> :me AND a.assigned_at > :cutoff AND NOT EXISTS (SELECT 1 FROM answers x "
            "WHERE x.item_id = a.item_id AND x.annotator = a.annotator AND x.role = 'annotator'))",
            {"item": item_id, "me": user.name, "cutoff": _cutoff(self.hold_seconds)}).fetchone()[0]
        if taken >= self.per_item:
            con.execute("DELETE FROM assignments WHERE item_id = ? AND annotator = ? AND role = 'annotator'",
                        (item_id, user.name))
            return Result("full", "your hold on this item expired and others took its places meanwhile")
        return None

    def _check_role(self, con: sqlite3.Connection, user: User, item_id: str, role: str) -> Result | None:
        if role == "annotator":
            others = con.execute("SELECT COUNT(*) FROM answers WHERE item_id = ? AND role = 'annotator'",
                                 (item_id,)).fetchone()[0]
            if others >= self.per_item:
                con.execute("DELETE FROM assignments WHERE item_id = ? AND annotator = ? AND role = 'annotator'",
                            (item_id, user.name))
                return Result("full", "this item already has its answers (your hold had expired)")
            return None
        if not user.can_resolve:
            return Result("forbidden", "only resolvers and admins resolve or audit")
        pair = con.execute("SELECT * FROM pairs WHERE item_id = ?", (item_id,)).fetchone()
        if pair is None or user.name in (pair["a_annotator"], pair["b_annotator"]):
            return Result("forbidden", "you cannot resolve or audit an item you annotated, or one without two answers")
        if role == "resolver" and con.execute("SELECT 1 FROM disputes WHERE item_id = ?", (item_id,)).fetchone() is None:
            return Result("forbidden", "the two annotators agree on this item; there is nothing to resolve")
        if role == "resolver" and con.execute("SELECT 1 FROM answers WHERE item_id = ? AND role = 'resolver'",
                                              (item_id,)).fetchone():
            return Result("full", "someone else resolved this item first")
        return None

    def undo(self, user: User) -> Result:
        """Take back this person's most recent answer (any role) and give the item back to them."""
        with self.store.transaction() as con:
            row = con.execute("SELECT * FROM answers WHERE annotator = ? AND source = 'app' "
                              "ORDER BY answer_id DESC LIMIT 1", (user.name,)).fetchone()
            if row is None:
                return Result("missing", "nothing to undo")
            # once the item has all its annotator answers, undo is refused whatever happened next, so
            # the refusal says nothing about the other answer (a resolution would reveal a disagreement)
            if row["role"] == "annotator" and con.execute(
                    "SELECT COUNT(*) FROM answers WHERE item_id = ? AND role = 'annotator'",
                    (row["item_id"],)).fetchone()[0] >= self.per_item:
                return Result("forbidden", "that item has all its answers now; ask a resolver to change yours")
            con.execute("DELETE FROM answers WHERE answer_id = ?", (row["answer_id"],))
            con.execute("INSERT OR REPLACE INTO assignments VALUES (?, ?, ?, ?)",
                        (row["item_id"], user.name, row["role"], now()))
        return Result("stored", row["item_id"])

    # -- resolvers and auditors -------------------------------------------------------------
    def next_dispute(self, user: User) -> Dispute | None:
        return self._next_review(user, "resolver")

    def next_audit(self, user: User) -> Dispute | None:
        return self._next_review(user, "auditor")

    def _next_review(self, user: User, role: str) -> Dispute | None:
        if not user.can_resolve:
            return None
        source = "disputes" if role == "resolver" else "pairs"
        extra = ("" if role == "resolver" else "AND i.audit = 1 AND (NOT EXISTS (SELECT 1 FROM disputes d WHERE "
                 "d.item_id = p.item_id) OR EXISTS (SELECT 1 FROM answers r WHERE r.item_id = p.item_id AND "
                 "r.role = 'resolver' AND r.annotator <> :me))")
        with self.store.transaction() as con:
            row = con.execute(
                f"""SELECT p.*, i.* FROM {source} p JOIN items i USING (item_id)
                LEFT JOIN assignments h ON h.item_id = p.item_id AND h.role = :role AND h.annotator <> :me
                     AND h.assigned_at > :cutoff
                WHERE :me NOT IN (p.a_annotator, p.b_annotator)
                  AND NOT EXISTS (SELECT 1 FROM answers x WHERE x.item_id = p.item_id AND x.role = :role)
                  AND (h.item_id IS NULL) {extra}
                ORDER BY EXISTS (SELECT 1 FROM assignments m WHERE m.item_id = p.item_id AND m.annotator = :me
                                 AND m.role = :role) DESC, i.seq LIMIT 1""",
                {"me": user.name, "role": role, "cutoff": _cutoff(self.hold_seconds)}).fetchone()
            if row is None:
                return None
            con.execute("INSERT OR REPLACE INTO assignments VALUES (?, ?, ?, ?)", (row["item_id"], user.name, role, now()))
        answers = [{q: _bool(row[f"{side}_{q}"]) for q in NAMES} for side in ("a", "b")]
        disputed = [q for q in NAMES if None not in (answers[0][q], answers[1][q]) and answers[0][q] != answers[1][q]]
        item = self.store.item(row["item_id"])
        assert item is not None
        return Dispute(item, answers if role == "resolver" else [], disputed if role == "resolver" else [])

    def disputed_questions(self, item_id: str) -> list[str]:
        """The questions the two annotators of ``item_id`` disagree on (empty when none)."""
        with self.store.connect() as con:
            row = con.execute("SELECT * FROM disputes WHERE item_id = ?", (item_id,)).fetchone()
        if row is None:
            return []
        return [q for q in NAMES if None not in (row[f"a_{q}"], row[f"b_{q}"]) and row[f"a_{q}"] != row[f"b_{q}"]]

    def resolve(self, user: User, item_id: str, values: dict[str, bool | None], seconds: float | None = None) -> Result:
        return self._store_answer(user, item_id, values, "resolver", seconds)

    def audit(self, user: User, item_id: str, values: dict[str, bool | None], seconds: float | None = None) -> Result:
        return self._store_answer(user, item_id, values, "auditor", seconds)

    # -- progress -------------------------------------------------------------------------
    def progress(self, user: User) -> dict[str, int]:
        with self.store.connect() as con:
            one = lambda sql, *a: con.execute(sql, a).fetchone()[0]  # noqa: E731
            items = one("SELECT COUNT(*) FROM items")
            return {
                "items": items,
                "slots": items * self.per_item,
                "mine": one("SELECT COUNT(*) FROM answers WHERE annotator = ? AND role = 'annotator'", user.name),
                "complete": one("SELECT COUNT(*) FROM pairs"),
                "open_slots": one(f"SELECT COALESCE(SUM(MAX(0, {self.per_item} - (SELECT COUNT(*) FROM answers x "
                                  "WHERE x.item_id = i.item_id AND x.role = 'annotator'))), 0) FROM items i"),
                "disputes_open": one("SELECT COUNT(*) FROM disputes d WHERE NOT EXISTS (SELECT 1 FROM answers r "
                                     "WHERE r.item_id = d.item_id AND r.role = 'resolver')"),
                "resolved": one("SELECT COUNT(DISTINCT item_id) FROM answers WHERE role = 'resolver'"),
                "audited": one("SELECT COUNT(DISTINCT item_id) FROM answers WHERE role = 'auditor'"),
            }


def _bool(value: object) -> bool | None:
    return None if value is None else bool(value)
