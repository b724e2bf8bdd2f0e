"""Planned calls: examples rotated per behaviour and recorded; type-level prompts shared by a type."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from helpers.fake_llm import FakeBackend
from intentkg.generate import GenerateConfig, run_generate
from intentkg.generate.plan import plan_calls
from intentkg.generate.prompts import load_template
from intentkg.generate.relations import load_schema
from intentkg.llm.protocol import ModelInfo

MODEL = ModelInfo(backend="fake", model_id="fake-1", model_hash="fakehash", chat=False)


def _behaviors(titles: list[str], query: str = "q") -> pa.Table:
    n = len(titles)
    return pa.table({"behavior_id": [f"b{i}" for i in range(n)], "kind": ["search_buy"] * n,
                     "left": [query] * n, "right": [f"p{i}" for i in range(n)], "left_text": [query] * n,
                     "right_text": titles})


def test_prompts_show_examples_drawn_per_behaviour():
    relation = load_schema().select(["used_for_event"])
    titles = [f"Product number {i} Widget" for i in range(30)]
    calls = plan_calls(_behaviors(titles), relation, load_template("qa_fewshot"), MODEL, GenerateConfig())
    shown = {c.shown for c in calls}
    assert len(shown) >= 5  # not one set of worked answers for every product (the old prompts)
    assert all(t in c.request.prompt for c in calls for t in c.shown)
    fixed = plan_calls(_behaviors(titles), relation, load_template("qa_fewshot"), MODEL,
                       GenerateConfig.model_validate({"few_shot": {"rotate": False}}))
    assert len({c.shown for c in fixed}) == 1 and "a birthday party" in fixed[0].shown


def test_type_level_prompts_are_shared_by_the_products_of_a_type():
    titles = ["Leather Dog Collar, Brown", "Nylon Dog Collar for Puppies", "Reflective Dog Collar 2 Pack",
              "Chef Knife 8 Inch", "Stainless Chef Knife, Black"]
    config = GenerateConfig.model_validate({"granularity": "product_type"})
    relations = load_schema().select(["used_for_event", "xWant"])
    calls = plan_calls(_behaviors(titles), relations, load_template("qa_fewshot"), MODEL, config)
    assert len(calls) == 10 and len({c.request.key for c in calls}) == 4  # 2 types x 2 relations
    assert {c.head_type for c in calls} == {"dog collar", "chef knife"}
    assert all('A customer bought "dog collar".' in c.request.prompt for c in calls if c.head_type == "dog collar")
    assert calls[0].head == "q -> Leather Dog Collar, Brown"  # the candidate still explains its behaviour


def test_candidates_record_the_examples_their_prompt_showed(demo_ws):
    config = GenerateConfig.model_validate({"backend": {"name": "fake"}, "relations": ["used_for_event"],
                                            "selection": {"limit": 4}})
    run_generate(config, demo_ws)
    rows = pq.read_table(demo_ws / "generate" / "candidates.parquet").to_pylist()
    assert rows and all(len(r["shown_examples"]) >= 2 and r["head_type"] is None for r in rows)
    assert len(FakeBackend.instances[-1].calls) == 4
    typed = run_generate(config.model_copy(update={"granularity": "product_type"}), demo_ws)
    typed_rows = pq.read_table(demo_ws / "generate" / "candidates.parquet").to_pylist()
    assert all(r["head_type"] for r in typed_rows)
    assert typed.counts["prompts_per_relation"] <= 4
