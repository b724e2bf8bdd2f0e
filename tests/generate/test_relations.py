from __future__ import annotations

import pytest

from intentkg.errors import ConfigError
from intentkg.generate.relations import load_schema

COSMO_15 = ["used_for_function", "used_for_event", "used_for_audience", "used_in_location", "used_in_body", "used_with",
            "xIs_a", "xWant", "xInterested_in", "capable_of", "is_a", "used_as", "used_on", "used_by", "used_to"]


def test_default_schema_is_the_15_cosmo_relations_with_examples_for_both_kinds():
    schema = load_schema()
    assert list(schema.relations) == COSMO_15
    for relation in schema.relations.values():
        assert set(relation.cue) >= {"co_buy", "search_buy"} and set(relation.examples) == {"co_buy", "search_buy"}


def test_users_add_relations_in_config_and_the_fingerprint_changes():
    extra = {"used_for_hobby": {"question": {"co_buy": "What hobby?", "search_buy": "What hobby?"},
                                "cue": {"co_buy": "They are both used for the hobby of",
                                        "search_buy": "It is used for the hobby of"}}}
    schema = load_schema(extra=extra)
    assert "used_for_hobby" in schema.relations and len(schema.relations) == 16
    assert schema.fingerprint != load_schema().fingerprint
    assert [r.name for r in schema.select(["used_for_hobby", "xWant"])] == ["used_for_hobby", "xWant"]


def test_errors_name_what_to_fix(tmp_path):
    with pytest.raises(ConfigError, match="unknown relation.*'nope'"):
        load_schema().select(["nope"])
    with pytest.raises(ConfigError, match="relation 'bad': cue needs a text for search_buy"):
        load_schema(extra={"bad": {"question": {"co_buy": "q", "search_buy": "q"}, "cue": {"co_buy": "c"}}})
    path = tmp_path / "rel.yaml"
    path.write_text("version: 2\nrelations: [a, b]\n")
    with pytest.raises(ConfigError, match="rel.yaml: expected a top-level 'relations:' mapping"):
        load_schema(path)
