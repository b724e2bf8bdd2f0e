"""Import and export: JSONL / Parquet, Argilla and Label Studio round trips, and bad input named."""

from __future__ import annotations

import json

import pytest
from helpers.annotate_helpers import YES, make_items

from intentkg.annotate.formats import export_store, import_file
from intentkg.annotate.formats.label_studio import label_config
from intentkg.annotate.store import Answer, Store
from intentkg.errors import InputError


def _filled(tmp_path) -> Store:
    store = Store(tmp_path / "src.sqlite")
    store.add_items(make_items(3))
    store.add_answers([Answer("c000", "ann1", "annotator", YES), Answer("c000", "ann2", "annotator", dict(YES, typicality=False)),
                       Answer("c001", "ann1", "annotator", dict(YES, relevance=False))])
    return store


def _content(store: Store):
    return sorted((a.item_id, a.annotator, tuple(a.values.values())) for a in store.answers(role="annotator"))


@pytest.mark.parametrize("fmt,target", [("jsonl", "a.jsonl"), ("parquet", "a.parquet"), ("argilla", "argilla"),
                                        ("label-studio", "ls")])
def test_round_trip(tmp_path, fmt, target):
    store = _filled(tmp_path)
    path = export_store(store, tmp_path / target, fmt)
    copy = Store(tmp_path / f"copy-{fmt}.sqlite")
    result = import_file(copy, path)  # the format is detected from the content
    assert result.answers_added == 3 and result.items_added == 3
    assert _content(copy) == _content(store)
    assert copy.item("c000").right_text == store.item("c000").right_text  # markup kept verbatim, as data
    assert import_file(copy, path).answers_known == 3  # a second import adds nothing


def test_label_studio_json_min_and_cancelled(tmp_path):
    store = _filled(tmp_path)
    folder = export_store(store, tmp_path / "ls", "label-studio")
    tasks = json.loads((folder / "tasks.json").read_text())
    tasks[0]["annotations"].append({"completed_by": 7, "was_cancelled": True, "result": []})
    tasks[1]["annotations"] = [{"completed_by": 12, "result": [
        {"from_name": "plausibility", "to_name": "explanation", "type": "choices", "value": {"choices": ["no"]}}]}]
    (folder / "tasks.json").write_text(json.dumps(tasks))
    copy = Store(tmp_path / "copy.sqlite")
    import_file(copy, folder, users=_users(tmp_path, {"12": "maria"}))
    answers = {(a.item_id, a.annotator): a.values for a in copy.answers()}
    assert answers[("c001", "maria")]["plausibility"] is False and answers[("c001", "maria")]["relevance"] is None
    assert not any(name == "ls-7" for _, name in answers)
    minimal = [{"candidate_id": "c002", "annotator": 3, **{q: "yes" for q in YES}}]
    (tmp_path / "min.json").write_text(json.dumps(minimal))
    import_file(copy, tmp_path / "min.json", fmt="label-studio")
    assert ("c002", "ls-3") in {(a.item_id, a.annotator) for a in copy.answers()}
    assert 'name="typicality"' in label_config() and "<Choice value=\"yes\"/>" in label_config()


def test_argilla_flat_records(tmp_path):
    store = _filled(tmp_path)
    copy = Store(tmp_path / "copy.sqlite")
    copy.add_items(store.items())
    flat = [{"id": "c002", "plausibility.responses": ["yes", "no"], "plausibility.responses.users": ["u1", "u2"],
             "plausibility.responses.status": ["submitted", "discarded"]}]
    (tmp_path / "flat.json").write_text(json.dumps(flat))
    import_file(copy, tmp_path / "flat.json", fmt="argilla")
    (answer,) = copy.answers()
    assert answer.annotator == "u1" and answer.values["plausibility"] is True and answer.values["typicality"] is None


def test_bad_input_names_file_row_and_column(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"candidate_id": "x", "behavior_kind": "co_buy", "head_text": "a || b",
                               "relation": "used_with", "tail": "t", "annotator": "a", "plausibility": "maybe"}) + "\n")
    with pytest.raises(InputError, match=r"bad.jsonl, row 1, column 'plausibility'.*yes/no"):
        import_file(store, bad)
    bad.write_text('{"candidate_id": "x"}\n{oops\n')
    with pytest.raises(InputError, match=r"row 2: bad JSON"):
        import_file(store, bad)
    bad.write_text(json.dumps({"candidate_id": "new", "annotator": "a", "plausibility": True}) + "\n")
    with pytest.raises(InputError, match=r"column 'kind'.*not in the store"):
        import_file(store, bad)
    assert store.answers() == []  # nothing half-imported


def test_demo_labels_import_with_titles(tmp_path):
    from intentkg.annotate.formats.records import load_titles
    from intentkg.demo_data import demo_path

    store = Store(tmp_path / "s.sqlite")
    result = import_file(store, demo_path("annotated_candidates.jsonl"), titles=load_titles(demo_path("products.csv")))
    assert result.items_added >= 450 and result.answers_added == 2 * result.items_added
    kinds = {i.kind: i for i in store.items()}
    assert kinds["co_buy"].left_text and kinds["co_buy"].right_text  # 'A || B' split
    assert kinds["search_buy"].right_text  # the bought product's title, looked up


def _users(tmp_path, mapping):
    path = tmp_path / "users.json"
    path.write_text(json.dumps(mapping))
    return path
