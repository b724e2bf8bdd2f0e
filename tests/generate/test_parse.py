"""The answer parser: known shapes, and 12,000 random and adversarial outputs."""

from __future__ import annotations

import random
import string

import pytest

from intentkg.generate import parse
from intentkg.generate.candidates import candidate_rows
from intentkg.generate.parse import MAX_TAIL_CHARS, parse_answer
from intentkg.generate.plan import PlannedCall
from intentkg.llm.protocol import Completion, ModelInfo, Request, SamplingParams
from intentkg.schemas import PARSE_STATUSES

CUE = "They are both used for"


def tails(items):
    return [(i.position, i.tail, i.status) for i in items]


def test_numbered_list_with_primer():
    items = parse_answer(" cooking food\n2. heating water\n3. heating wood", primer="1.", finish_reason="stop")
    assert tails(items) == [(1, "cooking food", "ok"), (2, "heating water", "ok"), (3, "heating wood", "ok")]
    raw = " cooking food\n2. heating water\n3. heating wood"
    assert [raw[i.start:i.end] for i in items] == ["cooking food", "heating water", "heating wood"]


def test_chat_answer_with_preamble_markup_and_quotes():
    raw = 'Sure! Here are three:\n1. **Camping** trips\n2) "rainy days".\n- (picnics)\n\nHope this helps!'
    assert tails(parse_answer(raw)) == [(1, "Camping** trips", "ok"), (2, "rainy days", "ok"), (3, "picnics", "ok")]


def test_cut_off_list_marks_only_the_last_item():
    items = parse_answer(" cooking food\n2. heating wa", primer="1.", finish_reason="length")
    assert tails(items) == [(1, "cooking food", "ok"), (2, "heating wa", "truncated")]
    complete = parse_answer(" cooking food\n2. heating water\n", primer="1.", finish_reason="length")
    assert [i.status for i in complete] == ["ok", "ok"]


def test_run_on_items_on_one_line():
    assert tails(parse_answer(" hiking 2. camping 3. fishing trips", primer="1.")) == [
        (1, "hiking", "ok"), (2, "camping", "ok"), (3, "fishing trips", "ok")]
    # numbers that do not continue the list stay inside the item
    assert tails(parse_answer(" storing 5. 7 liters of water", primer="1.")) == [(1, "storing 5. 7 liters of water", "ok")]


def test_run_on_sentence_without_list():
    assert tails(parse_answer("playing tennis with friends. Also other things")) == [(1, "playing tennis with friends", "ok")]
    assert tails(parse_answer("because " + "very " * 40 + "long")) == [(0, None, "unparseable")]


@pytest.mark.parametrize("raw", ["", "   ", "\n\n", None])
def test_empty(raw):
    assert tails(parse_answer(raw, primer="1.")) == [(0, None, "empty")]


@pytest.mark.parametrize("raw,finish,status", [("!!! ??? ...", "stop", "unparseable"), ("\n\nQuestion:", "stop", "unparseable"),
                                               ("\n", "length", "empty"), (" -- \n", "length", "truncated")])
def test_no_item(raw, finish, status):
    assert tails(parse_answer(raw, primer="1.", finish_reason=finish)) == [(0, None, status)]


def test_echoed_cue_is_removed():
    assert tails(parse_answer(" They are both used for playing tennis\n2. fun", primer="1.", cue=CUE)) == [
        (1, "playing tennis", "ok"), (2, "fun", "ok")]


def test_over_long_item_is_cut_and_marked():
    items = parse_answer(" " + "word " * 100, primer="1.", finish_reason="stop")
    assert len(items) == 1 and items[0].status == "truncated" and len(items[0].tail) <= MAX_TAIL_CHARS


def test_item_cap_and_text_after_list_ignored():
    raw = "".join(f"{i}. item {i}\n" for i in range(1, 40)) + "not a list line\n1. again"
    items = parse_answer(raw, max_items=5)
    assert [i.tail for i in items] == [f"item {i}" for i in range(1, 6)]


def test_parser_bug_yields_a_row_not_an_exception(monkeypatch):
    monkeypatch.setattr(parse, "_list_spans", lambda *a: 1 / 0)
    assert tails(parse_answer("1. a")) == [(0, None, "unparseable")]


# ---------------------------------------------------------------- fuzzing -------------
WORDS = ["cooking", "food", "camping", "the", "baby", "dry skin", "a gift", "winter", "They", "are", "both", "used",
         "for", "Question:", "Answer:", "1.", "2.", "3)", "-", "*", "**", "•", '"', "'", "(", ")", "...", "é", "日本",
         "🙂", "\t", "  ", "\u200b", "\r", "4.5", "2020.", "#", ">", "<|endoftext|>", "\\n", "{", "}", "%s", "\x00"]


def _random_answer(rng: random.Random) -> str:
    shape = rng.randrange(8)
    if shape == 0:  # pure noise
        alphabet = string.printable + "é日🙂\u2022\u201c\u201d"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 200)))
    if shape == 1:  # word soup
        return " ".join(rng.choice(WORDS) for _ in range(rng.randrange(0, 60)))
    if shape == 2:  # huge single line
        return rng.choice(WORDS) * rng.randrange(1, 400)
    lines = []
    for n in range(1, rng.randrange(1, 25)):
        marker = rng.choice([f"{n}.", f"{n})", f"({n})", "-", "*", "•", "", f"{n + rng.randrange(-2, 3)}.", f"{n} ."])
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(0, 12)))
        lines.append(f"{rng.choice(['', ' ', '  '])}{marker} {body}")
    text = rng.choice(["\n", "\r\n", " ", "\n\n"]).join(lines)
    if shape == 3:  # cut anywhere
        text = text[: rng.randrange(0, len(text) + 1)]
    if shape == 4:  # duplicated chunks
        text = text + text[: rng.randrange(0, len(text) + 1)]
    return text


def _check(raw, primer, finish, items):
    assert items, "every output yields at least one row"
    assert all(i.status in PARSE_STATUSES for i in items)
    assert len(items) <= parse.MAX_ITEMS
    if items[0].tail is None:
        assert len(items) == 1 and items[0].position == 0
        if raw is None or not str(raw).strip():
            assert items[0].status == "empty"
        return
    assert [i.position for i in items] == list(range(1, len(items) + 1))
    flat = " ".join((primer + raw).split())
    for item in items:
        assert item.tail and item.tail == item.tail.strip() and any(c.isalnum() for c in item.tail)
        assert item.tail in flat, "a tail is always text the model wrote"
        assert len(item.tail) <= MAX_TAIL_CHARS
        if primer.strip() in ("", "1.", "1)", "-"):
            assert 0 <= item.start < item.end <= len(raw)
            assert " ".join(raw[item.start:item.end].split()) == item.tail
        if item.status == "truncated" and finish != "length":
            assert len(item.tail) > MAX_TAIL_CHARS / 2  # only over-long items are cut without a token limit


def test_fuzz_parser_never_raises_and_keeps_invariants():
    rng = random.Random(20240917)
    for case in range(12_000):
        raw = _random_answer(rng)
        if case % 97 == 0:
            raw = rng.choice([None, "", "   ", 42, b"1. bytes"])
        primer = rng.choice(["", "1.", "1)", "-", "Answer: 1.", " 1. partial"])
        finish = rng.choice(["stop", "length", None, "eos", ""])
        cue = rng.choice(["", CUE, "The customer wants to", "x"])
        items = parse._parse(raw, primer, finish, cue, parse.MAX_ITEMS)  # the raw parser, no safety net
        assert items == parse_answer(raw, primer=primer, finish_reason=finish, cue=cue)
        _check(raw if isinstance(raw, str) or raw is None else str(raw), primer, finish, items)


def test_fuzz_rows_never_shift():
    """Thousands of random answers through candidate_rows: every row keeps its own call's raw text."""
    rng = random.Random(7)
    model = ModelInfo(backend="fake", model_id="m", model_hash="h", chat=False)
    seen_ids = set()
    for c in range(3000):
        texts = [_random_answer(rng) for _ in range(rng.randrange(1, 4))]
        key = f"key{c}"
        call = PlannedCall(order=c, behavior_id=f"b{c}", kind="co_buy", head="A + B", relation="used_with", cue=CUE,
                           primer="1.", request=Request(key=key, params=SamplingParams(), prompt="p"))
        completions = [Completion(text=t, finish_reason=rng.choice(["stop", "length"])) for t in texts]
        rows = candidate_rows(call, completions, prompt_id="qa", template_version="1", model=model, max_items=10)
        assert {r["sample"] for r in rows} == set(range(len(texts)))
        for row in rows:
            assert row["request_key"] == key and row["behavior_id"] == f"b{c}"
            assert row["raw_text"] == texts[row["sample"]]
            assert row["candidate_id"] not in seen_ids
            seen_ids.add(row["candidate_id"])
