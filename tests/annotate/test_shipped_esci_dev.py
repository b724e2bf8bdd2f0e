"""The engineer's esci-dev annotations shipped in the repo import as they are documented."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from intentkg.annotate.formats import import_file
from intentkg.annotate.labels import final_labels
from intentkg.annotate.store import Store

FILE = Path(__file__).resolve().parents[2] / "annotations" / "esci-dev" / "engineer-lift.jsonl"


def test_the_shipped_esci_dev_annotations_import_into_a_store(tmp_path):
    rows = [json.loads(line) for line in FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    store = Store(tmp_path / "store.sqlite")
    result = import_file(store, FILE)
    assert result.items_added == len(rows) == 300 and result.answers_added == 300
    assert {a.annotator for a in store.answers()} == {"engineer-lift"}  # one engineer, not a crowd (README)
    # the three sources the README names, about a hundred each, keyed by their text
    assert Counter(r["batch"] for r in rows) == {"behaviour": 100, "query-only": 100, "catalogue": 100}
    assert len({(r["head_text"], r["relation"], r["tail"]) for r in rows}) == 300
    labels = final_labels(store.answers())
    plausible = sum(bool(label.values["plausibility"]) for label in labels.values())
    assert plausible == 129  # the count the README gives; both classes present for the critic
    # a query-only row has no product: its head is the query and an empty right side
    assert all(r["head_text"].endswith(" -> ") for r in rows if r["batch"] == "query-only")
