"""Refine's prompts: behaviour prompts, or (``prompts: queries``) the query-only prompts on-demand knowledge sends."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from intentkg.errors import IntentkgError
from intentkg.filter.synthetic import write_synthetic_workspace
from intentkg.llm.protocol import ModelInfo
from intentkg.query_key import query_key
from intentkg.refine.prompts import build_prompts

CHAT = ModelInfo(backend="transformers", model_id="m", model_hash="h", chat=True)


def _text(prompt) -> str:
    return prompt if isinstance(prompt, str) else "\n".join(m["content"] for m in prompt)


def _prompts(ws, heldout: bool, queries: bool):
    return build_prompts(ws, CHAT, "auto", ["used_for_function"], 10_000, 0.25, heldout=heldout, queries=queries)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """Synthetic behaviours plus one query bought for twice (another product, upper-cased): one prompt for both."""
    ws = write_synthetic_workspace(tmp_path_factory.mktemp("prompts") / "ws", 400, seed=1)
    table, products = ws.read("ingest", "behaviors"), ws.read("ingest", "products")
    rows = table.to_pylist()
    first, other = next(r for r in rows if r["kind"] == "search_buy"), rows[1]
    again = {**first, "behavior_id": "again", "left_text": first["left_text"].upper(), "right": other["right"],
             "right_text": other["right_text"]}
    with ws.run("ingest", config={"repeated_query": True}, force=True) as run:
        run.write("behaviors", pa.Table.from_pylist(rows + [again], schema=table.schema))
        run.write("products", products)
    return ws


def test_query_prompts_are_one_per_distinct_query_split_by_head(ws):
    behaviors = ws.read("ingest", "behaviors").to_pylist()
    keys = {query_key(b["left_text"]) for b in behaviors if b["kind"] == "search_buy"}
    searches = sum(b["kind"] == "search_buy" for b in behaviors)
    assert len(keys) < searches  # the synthetic log repeats queries: one prompt each, not one per purchase
    held_in, held_out = _prompts(ws, False, True), _prompts(ws, True, True)
    heads_in = {b.head for b in held_in.behaviours.values()}
    heads_out = {b.head for b in held_out.behaviours.values()}
    assert heads_in | heads_out == {f"{k} -> " for k in keys}
    assert not heads_in & heads_out
    assert len(held_in) + len(held_out) == len(keys)


def test_a_query_prompt_names_the_query_and_no_product(ws):
    behaviors = ws.read("ingest", "behaviors").to_pylist()
    titles = {b["right_text"] for b in behaviors}
    prompts = _prompts(ws, False, True)
    for row in prompts.rows:
        text, b = _text(row["prompt"]), prompts.behaviours[row["prompt_id"]]
        assert f'A customer searched for "{b.left_text}" and bought a product for it.' in text
        assert b.right_text == ""
        assert not any(t in text for t in titles)
    # the behaviour prompts of the same workspace do name the product bought
    assert any(any(t in _text(r["prompt"]) for t in titles) for r in _prompts(ws, False, False).rows)


def test_query_prompts_need_search_queries(tmp_path):
    ws = write_synthetic_workspace(tmp_path / "ws", 80, seed=2)
    table = ws.read("ingest", "behaviors")
    co_buy, products = table.filter(pc.equal(table["kind"], "co_buy")), ws.read("ingest", "products")
    with ws.run("ingest", config={"co_buy_only": True}, force=True) as run:
        run.write("behaviors", co_buy)
        run.write("products", products)
    with pytest.raises(IntentkgError, match=r"prompts: queries needs search_buy behaviours"):
        _prompts(ws, False, True)
