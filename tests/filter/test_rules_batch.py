"""The batched rules pass decides exactly what the per-row checker decides, reasons included."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from intentkg.filter.config import RulesConfig
from intentkg.filter.rules import RuleChecker
from intentkg.filter.rules_batch import BatchRuleChecker
from intentkg.filter.synthetic import synthetic_tables
from intentkg.filter.text_batch import normalize_array
from intentkg.filter.workers import rules_rows, rules_rows_per_row
from intentkg.text import normalize

TAILS = [
    "winter camping", "keeping a baby warm at night", "dry face", "a watering can", "Music festivals.",
    "sensitive skin (eczema)", None, "", "   ", "it", " ".join(["word"] * 25), "x" * 200,
    "keeping the baby warm at", "cooking and", "for use with,", "camping trips...", "done \u2026",
    "camping (in winter", 'say "hi', "play in the sea<start_of_image>", "walk the dog<eos>", "<|im_end|>",
    "tent", "a type of tent", "Tents", "TENTS!!", "the tent", "sleeping bag", "a type of sleeping bags",
    "Trailblazer 2 person dome tent", "Trailblazer 2-Person Dome Tnet", "dome tent", "2-person dome",
    "because they like it", "for the same reason", "They need them.", "personal preference",
    "they go well together", "it is useful", "to use it together", "for the same purpose", "it s a gift",
    "both are tents", "dog collars", "leather dog collars", "dog collar for walks", "a birthday party",
    "birthday party fun", "a wedding", "weddings", "planning a birthday party with kids",
    # unicode: NFKC, full lower-casing, Python's \w, odd whitespace
    "\uff37\uff49\uff4e\uff54\uff45\uff52\u3000\uff43\uff41\uff4d\uff50\uff49\uff4e\uff47",
    "\u0130stanbul trips", "\u039f\u0394\u039f\u03a3 \u03a4\u0391\u039e\u0399\u0394\u0399\u0391",
    "caf\u00e9 au lait", "cafe\u0301 mornings", "na\u00efve \u2014", "\u65e5\u672c\u306e\u65c5\u884c",
    "emoji \U0001f389 party", "\u00a0padded tail\u3000", "tab\tseparated\x1fwords", "under_score words",
    "stra\u00dfe trips", "\ufb01re pits", "\u216b roman", "\u00bd price", "x\u00b2 fun", "\u0301leading mark",
    "tents\u200b", "\u0939\u093f\u0928\u094d\u0926\u0940 \u092f\u093e\u0924\u094d\u0930\u093e",
    "\u0422\u0415\u041d\u0422", "T\u00c9NT", "they \u2018like\u2019 it", "they adore it", "kitchen stuff",
    "a table cloth", "table-cloths", "tablecloth", "a table", "cloth napkins", "dome-tent", "sleepingbag",
]
RELATIONS = ["used_for_event", "xWant", "used_for_event", "bad relation", "", None, "used_for_fun", "Unknown_9"]
STATUSES = ["ok"] * 6 + ["truncated", None]
KINDS = ["co_buy", "search_buy", "search_buy", None]
TITLES = ["Trailblazer 2-Person Dome Tent", "Summit Mummy Sleeping Bag 20F", "Leather Dog Collar, Large",
          "Gold Number Candles 0-9 Cake Topper", "T\u00c9NT \u00e9t\u00e9 2p", "\u65e5\u672c\u306e\u65c5\u884c",
          "Waterproof Tablecloth for Rectangle Tables", "Vinyl Table Cloth, 60 x 84", "", None]
QUERIES = ["winter camping tent", "birthday candles", "dog collar", "tents", "\u0422\u0415\u041d\u0422", "", None]
TYPES = ["tent", "sleeping bag", "dog collar", "", None, None, None]
SHOWN = [None, None, [], ["a birthday party", "a wedding"], ["a birthday party"], ["x\x1fy", None],
         ["x", "y"], ["weddings\\", "dome tent"]]


def _table(rng: random.Random, per_tail: int = 14) -> pa.Table:
    rows = []
    for tail in TAILS:
        for _ in range(per_tail):
            kind = rng.choice(KINDS)
            left = rng.choice(QUERIES if kind == "search_buy" else TITLES)
            rows.append({"tail": tail, "relation": rng.choice(RELATIONS), "parse_status": rng.choice(STATUSES),
                         "kind": kind, "left_text": left, "right_text": rng.choice(TITLES),
                         "left_type": rng.choice(TYPES), "right_type": rng.choice(TYPES),
                         "shown_examples": rng.choice(SHOWN)})
    rng.shuffle(rows)
    return pa.Table.from_pylist(rows, schema=pa.schema(
        [(name, pa.string()) for name in ("tail", "relation", "parse_status", "kind", "left_text", "right_text",
                                          "left_type", "right_type")] + [("shown_examples", pa.list_(pa.string()))]))


def _per_row(checker: RuleChecker, table: pa.Table) -> dict[str, list]:
    cols = table.to_pydict()
    results = checker.check(cols)
    from intentkg.filter.copies import supported
    return {"key": [r.key for r in results], "norm": [r.norm if r.key else None for r in results],
            "flags": [r.flags for r in results], "details": [r.details for r in results],
            "supported": [supported(t, a, b) for t, a, b in zip(cols["tail"], cols["left_text"], cols["right_text"])]}


CONFIGS = {
    "default": (RulesConfig(), None),
    "containment": (RulesConfig(echo_containment=True, extra_relations=["used_for_fun"], echo_max_edits=3), None),
    "open": (RulesConfig(relations=None, restatement=False, copies=False, min_words=2, max_chars=40), None),
    "python_patterns": (RulesConfig(circular_patterns=[r"(?:just )?\w+ stuff", r"they .+ it", "tents?"]),
                        {"used_for_event": ["a birthday party"], "xWant": ["dome tent", "weddings"]}),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_the_batch_decides_what_each_row_decides(name):
    config, default_shown = CONFIGS[name]
    table = _table(random.Random(name))
    expected = _per_row(RuleChecker(config, default_shown), table)
    batch = BatchRuleChecker(config, default_shown)
    got = {k: v.to_pylist() for k, v in batch.check(table).items()}
    for column, want in expected.items():
        bad = [i for i in range(table.num_rows) if got[column][i] != want[i]]
        assert not bad, (column, [(table.column("tail")[i].as_py(), got[column][i], want[i]) for i in bad[:5]])
    if name == "default":  # the fixture makes every rule fire somewhere, and leaves some rows clean
        fired = {f for flags in expected["flags"] for f in flags}
        assert fired >= {"parse_failed", "too_short", "too_long", "incomplete", "echo_query", "echo_title",
                         "echo_product_type", "restates_product", "copied_example", "circular", "empty_reason",
                         "malformed_relation"}, fired
        assert any(not flags for flags in expected["flags"])
    # the same checker over the rows in two batches (word ids carried from one to the next)
    halves = [batch.check(table.slice(0, 300)), batch.check(table.slice(300))]
    assert sum((h["details"].to_pylist() for h in halves), []) == expected["details"]


def test_rules_rows_equal_the_per_row_rows_on_synthetic_candidates():
    tables = synthetic_tables(3000, seed=3)
    cand, beh, prod = (tables[k].to_pylist() for k in ("candidates", "behaviors", "products"))
    behaviors = {b["behavior_id"]: b for b in beh}
    products = {p["product_id"]: p for p in prod}
    rows = []
    for i, c in enumerate(cand):
        b = behaviors[c["behavior_id"]]
        left = products.get(b["left"]) if b["kind"] == "co_buy" else None
        right = products.get(b["right"])
        rows.append({"row": i, "candidate_id": c["candidate_id"], "behavior_id": c["behavior_id"], "kind": c["kind"],
                     "head": c["head"], "relation": c["relation"], "tail": c["tail"], "parse_status": c["parse_status"],
                     "position": c["position"], "sample": c["sample"], "tail_logprob": c["tail_logprob"],
                     "request_key": c["request_key"], "raw_text": c["raw_text"], "shown_examples": None,
                     "left_text": b["left_text"] or c["head"], "right_text": b["right_text"],
                     "left_type": left and left["product_type"], "right_type": right and right["product_type"],
                     "grp": None if i % 5 == 0 else "" if i % 7 == 0 else  # no type: the title's head noun
                     (right and (right["product_type"] or right["category"])) or b["category"]})
    table = pa.Table.from_pylist(rows)
    table = table.set_column(table.schema.get_field_index("shown_examples"), "shown_examples",
                             pa.nulls(table.num_rows, pa.list_(pa.string())))
    config = RulesConfig()
    new = rules_rows(BatchRuleChecker(config), table)
    old = rules_rows_per_row(RuleChecker(config), table.to_pydict())
    for name in old.column_names:
        assert new.column(name).to_pylist() == old.column(name).to_pylist(), name
    # as an engine may hand it: large strings, in several chunks
    large = pa.table({n: c.cast(pa.large_string()) if c.type == pa.string() else c
                      for n, c in zip(table.column_names, table.columns)})
    assert rules_rows(BatchRuleChecker(config), pa.concat_tables([large.slice(0, 999), large.slice(999)])) == new
    assert sum(1 for f in old.column("flags").to_pylist() if f) > 100


def test_normalize_array_is_normalize():
    values = [t for t in TAILS] + TITLES + QUERIES + ["A_B", "\x1c\x1d", "ÀÉÎ", "ǅ", "\u03a3\u03a3 \u03a3"]
    assert normalize_array(pa.array(values, pa.string())).to_pylist() == [normalize(v) for v in values]
