"""Many annotators at once against a real uvicorn server: every submission is stored exactly once."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
from helpers.annotate_helpers import csrf_of, item_of, log_in, running_server

from helpers.annotate_helpers import make_items

from intentkg.annotate.app import create_app
from intentkg.annotate.store import Store
from intentkg.annotate.tokens import create_user

ITEMS, PEOPLE, REPEATS = 30, 8, 4
ANSWERS = dict(completeness="yes", relevance="yes", informativeness="no", plausibility="yes", typicality="no")


def _annotate_until_done(base: str, token: str) -> list[tuple[str, str]]:
    """Answer items until none is left; each answer is posted REPEATS times at once (double clicks)."""
    outcomes = []
    with httpx.Client(base_url=base, timeout=60) as client, ThreadPoolExecutor(REPEATS) as pool:
        assert log_in(client, token).status_code == 303
        while True:
            page = client.get("/annotate").text
            item = item_of(page)
            if item is None:
                return outcomes
            form = dict(ANSWERS, csrf=csrf_of(page), item_id=item, shown_at="0")
            responses = list(pool.map(lambda _: client.post("/annotate", data=form), range(REPEATS)))
            for r in responses:
                assert r.status_code == 303, r.text
                outcomes.append((item, r.headers["location"].split("msg=")[-1]))


def test_parallel_clients_lose_nothing_and_store_nothing_twice(tmp_path):
    store = Store(tmp_path / "store.sqlite")
    store.add_items(make_items(ITEMS))
    tokens = [create_user(store, f"person{i}") for i in range(PEOPLE)]
    with running_server(create_app(store)) as base, ThreadPoolExecutor(PEOPLE) as pool:
        results = list(pool.map(lambda t: _annotate_until_done(base, t), tokens))
    answers = store.answers()
    per_pair = Counter((a.item_id, a.annotator) for a in answers)
    per_item = Counter(a.item_id for a in answers)
    assert len(answers) == ITEMS * 2  # every item got exactly its two answers ...
    assert set(per_item.values()) == {2} and set(per_pair.values()) == {1}  # ... from two different people
    stored = [item for outcomes in results for item, status in outcomes if status == "stored"]
    assert len(stored) == len(answers)  # every "stored" reply is one row, and every row had one
    assert {s for outcomes in results for _, s in outcomes} <= {"stored", "duplicate", "full"}
    assert all(a.values["informativeness"] is False and a.values["plausibility"] is True for a in answers)
