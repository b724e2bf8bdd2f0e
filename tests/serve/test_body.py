"""The knowledge answer's bytes (serve/body.py): json.dumps of the head, the entry spliced in as it is."""

from __future__ import annotations

import json

import pytest

from intentkg.serve.body import answer_body, hit_body
from intentkg.serve.keys import encode

from .test_fast_path import FACTS


@pytest.mark.parametrize("key", ["q:winter camping gear", 'q:17" monitor', "q:tent\\pole", "q:café ⛺", "p:M1",
                                 "q:tab\there"])
@pytest.mark.parametrize("shown, queued, version, arm", [
    ("hit", False, "20261203T120000-abcdef", None), ("miss", True, None, None), ("withheld", False, "v", ("control",)),
    ("hit", False, "v", (None,)), ("miss", False, "v", ("treatment",))])
def test_the_body_is_json_dumps_of_the_head_with_the_entry_spliced_in(key, shown, queued, version, arm):
    value = encode("query", key[2:], FACTS, "tier1") if shown == "hit" else None
    head = {"key": key, "outcome": shown, "queued": queued, "version": version} | (
        {"arm": arm[0]} if arm is not None else {})
    expected = json.dumps(head, ensure_ascii=False)[:-1] + ',"entry":' + (value or "null") + "}"
    body = answer_body(key, shown, queued, version, arm, value)
    assert body == expected.encode() and json.loads(body) == head | {"entry": json.loads(value) if value else None}
    if shown == "hit" and arm is None and version is not None:
        assert hit_body(key, version, value) == body
