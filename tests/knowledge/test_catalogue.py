"""Product-side knowledge from the catalogue alone, with the bundled Gemma 3 270M (llama.cpp) and
the bundled MiniLM for the title clusters."""

import pyarrow as pa
import pyarrow.parquet as pq
from helpers.kg_workspace import make_workspace
from helpers.llm_models import gemma
from helpers.on_demand import on_demand_yaml

from intentkg.knowledge.catalogue import (SCRATCH, SOURCE, CatalogueConfig, catalogue_facts, group_types,
                                          product_only_template, run_catalogue)

CONFIG = on_demand_yaml(None)


def test_product_only_template_names_only_the_product(tmp_path):
    from intentkg.generate.prompts import load_template
    from intentkg.generate.relations import load_schema

    template = load_template(str(product_only_template("qa_fewshot", tmp_path)))
    relation = load_schema(None, {}).select(["used_for_function"])[0]
    prompt = template.render(relation, "search_buy", "a query the prompt must not show", "Arctic Air Mattress").prompt
    assert prompt.endswith('Question: A customer bought "Arctic Air Mattress". What is the product used for?\n'
                           "Answer: The product is used for\n1.")
    assert "a query the prompt must not show" not in prompt


def test_titles_cluster_into_types_with_the_real_embedder():
    products = pa.table({"product_id": ["T1", "M1", "S1", "B1", "B2"],
                         "title": ["Trailblazer 4-Season Dome Tent for winter camping",
                                   "Camping Air Mattress for tents", "Winter Camping Mummy Sleeping Bag",
                                   "Newborn Baby Swaddle Blanket", "Gentle Baby Lotion for Newborn Skin"]})
    types = group_types(products, CatalogueConfig(types=2))
    of = dict(zip(products.column("product_id").to_pylist(), types["type_of"]))
    assert of["T1"] == of["M1"] == of["S1"] != of["B1"] == of["B2"]
    assert len(types["text"]) == 2 and types["clustered"] == 5
    assert all(0 < s <= 1 for s in types["similarity"])
    # at most one type per product: a large budget asks about every product itself
    assert len(group_types(products, CatalogueConfig(types=10))["text"]) == 5


def test_catalogue_knowledge_for_every_product_type(tmp_path):
    ws = make_workspace(tmp_path / "ws")  # its products have a product_type: one prompt per type
    config_file = tmp_path / "gen.yaml"
    config_file.write_text(CONFIG)
    config = CatalogueConfig(relations=["used_for_function"], on_demand_config=str(config_file))
    counts = run_catalogue(ws, config, backend=gemma())
    assert counts["products"] == 5 and counts["types"] == 5 and counts["prompts"] == 5
    candidates = pq.read_table(ws.root / SCRATCH / "generate" / "candidates.parquet")
    assert {h.split(" -> ")[-1] for h in candidates.column("head").to_pylist()} == {
        "tent", "air mattress", "sleeping bag", "swaddle", "lotion"}
    facts = catalogue_facts(ws)
    assert counts["products_with_facts"] == len(facts) > 0
    for product_id, found in facts.items():
        assert found and all(f.source == SOURCE and f.relation == "used_for_function" for f in found)
        assert all(f.intention_id.startswith("intention:") for f in found)
    again = run_catalogue(ws, config, backend=gemma())  # unchanged: skipped
    assert again == counts and ws.manifest("catalogue").status == "complete"


def test_title_embeddings_come_from_the_workspace_cache(tmp_path):
    """Fails on the old code (no title_embedder: every catalogue run embedded all titles again)."""
    from intentkg.embed.cache import EmbeddingCache
    from intentkg.embed.cached import CachedEmbedder, cache_root
    from intentkg.knowledge.catalogue import title_embedder
    from intentkg.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    titles = ["Trailblazer 4-Season Dome Tent", "Newborn Baby Swaddle Blanket"]
    first = title_embedder(ws, CatalogueConfig())(titles)
    key = CachedEmbedder(CatalogueConfig().embedder).model_key

    def must_not_run(texts):
        raise AssertionError(f"embedded again: {texts}")

    again = EmbeddingCache(cache_root(ws.root), key).encode(titles, must_not_run)
    assert first.shape == (2, 384) and (again == first).all()


def test_min_agreement_keeps_the_tails_several_samples_agree_on(tmp_path):
    """Four samples a prompt (temperature 0.8): with ``min_agreement=2`` a type keeps only the tails that
    at least two of its kept samples wrote, counted here from the scratch candidates themselves."""
    import yaml

    from intentkg.kg.canonical import canonical
    from intentkg.knowledge.catalogue import behavior_id, group_types

    ws = make_workspace(tmp_path / "ws")
    spec = yaml.safe_load(CONFIG)
    spec["generate"]["sampling"] = {"temperature": 0.8, "n": 4, "max_tokens": 32, "seed": 0}
    config_file = tmp_path / "gen.yaml"
    config_file.write_text(yaml.safe_dump(spec))
    config = CatalogueConfig(relations=["used_for_function"], on_demand_config=str(config_file))
    every = run_catalogue(ws, config, backend=gemma())
    assert every["samples_per_prompt"] == 4 and every["tails_below_agreement"] == 0
    all_facts = catalogue_facts(ws)
    agreeing = run_catalogue(ws, config.model_copy(update={"min_agreement": 2}), backend=gemma())
    facts = catalogue_facts(ws) or {}
    assert agreeing["tails_below_agreement"] > 0 and agreeing["facts"] < every["facts"]
    candidates = pq.read_table(ws.root / SCRATCH / "generate" / "candidates.parquet").to_pylist()
    types = group_types(ws.read("ingest", "products"), config)
    type_of = dict(zip(ws.read("ingest", "products").column("product_id").to_pylist(), types["type_of"]))
    for product_id, found in facts.items():
        assert {f.intention for f in found} <= {f.intention for f in all_facts[product_id]}
        for fact in found:
            samples = sum(1 for c in candidates if c["behavior_id"] == behavior_id(type_of[product_id])
                          and c["tail"] and canonical(c["tail"]) == canonical(fact.intention))
            assert samples >= 2, (product_id, fact.intention, samples)


def test_min_agreement_above_the_samples_a_prompt_is_refused_before_any_call(tmp_path):
    """One sample a prompt cannot have two agreeing: refused with what to change, no stage written."""
    import pytest

    from intentkg.errors import IntentkgError

    ws = make_workspace(tmp_path / "ws")
    config_file = tmp_path / "gen.yaml"
    config_file.write_text(CONFIG)
    config = CatalogueConfig(relations=["used_for_function"], on_demand_config=str(config_file), min_agreement=2)
    with pytest.raises(IntentkgError, match=r"min_agreement 2 .* raise sampling.n to at least 2"):
        run_catalogue(ws, config, backend=object())  # never called
    assert ws.manifest("catalogue") is None and not (ws.root / SCRATCH).exists()
