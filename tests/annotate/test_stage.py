"""The annotate stage: a content-fingerprinted snapshot of the store as contract tables + agreement."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from helpers.annotate_helpers import YES, make_store

from intentkg.annotate.assignment import Queue
from intentkg.annotate.stage import run_export
from intentkg.errors import IntentkgError
from intentkg.schemas import ANNOTATIONS, LABELS


def test_snapshot_tables_agreement_and_skip(tmp_path):
    store, users, _ = make_store(tmp_path, n=2)
    with pytest.raises(IntentkgError, match="no answers yet"):
        run_export(tmp_path)
    q = Queue(store)
    for name, values in (("ann1", YES), ("ann2", dict(YES, typicality=False))):
        item = q.next_item(users[name])
        q.submit(users[name], item.item_id, values)
    first = run_export(tmp_path)
    answers = pq.read_table(tmp_path / "annotate" / "annotations.parquet")
    labels = pq.read_table(tmp_path / "annotate" / "labels.parquet")
    assert answers.schema.equals(ANNOTATIONS) and labels.schema.equals(LABELS)
    (row,) = labels.to_pylist()
    assert row["status"] == "disputed" and row["typicality"] is None and row["disagreed"] == ["typicality"]
    assert row["head"] == "winter tent -> " + store.item(row["candidate_id"]).right_text  # candidates' head format
    report = json.loads((tmp_path / "annotate" / "agreement.json").read_text())
    assert report["items_with_two"] == 1 and first.extra["snapshot_sha256"]
    assert run_export(tmp_path).finished_at == first.finished_at  # unchanged store: skipped
    dispute = q.next_dispute(users["res"])
    q.resolve(users["res"], dispute.item.item_id, {"typicality": True})
    second = run_export(tmp_path)
    assert second.extra["snapshot_sha256"] != first.extra["snapshot_sha256"]
    (row,) = pq.read_table(tmp_path / "annotate" / "labels.parquet").to_pylist()
    assert row["status"] == "resolved" and row["typicality"] is True and row["resolver"] == "res"
