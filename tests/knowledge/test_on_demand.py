"""On-demand knowledge through the real generate and filter stages, with the deterministic fake LLM
backend (tests/helpers/fake_llm.py) standing in for a model."""

import helpers.fake_llm  # noqa: F401  (registers the "fake" backend)

from intentkg.knowledge.on_demand import SCRATCH, generate_for_queries, query_only_template

CONFIG = """
generate:
  backend: {name: fake, model: fake-1}
  relations: [used_for_event, used_for_audience]
  template: qa_fewshot
filter:
  completeness: {scorer: generation}
  similarity: {enabled: false}
  dedup: {semantic: false}
  thresholds: {min_completeness: null, max_input_similarity: null, min_plausibility: 0.5}
"""


def test_query_only_template(tmp_path):
    path = query_only_template("qa_fewshot", tmp_path)
    text = path.read_text()
    assert "bought a product for it" in text and path.name == "qa_fewshot_query_only.yaml"
    assert query_only_template("qa_fewshot", tmp_path) == path


def test_generate_and_filter_for_unseen_queries(tmp_path):
    config = tmp_path / "on_demand.yaml"
    config.write_text(CONFIG)
    stats: dict = {}
    ws = tmp_path / "ws"
    facts = generate_for_queries(ws, ["Gifts for a NEW dad", "  ", "gifts for a new dad", "yoga at home"],
                                 config, stats=stats)
    assert len(facts) == 4 and facts[1] == [] and facts[0] == facts[2]
    assert facts[0] and all(f.source == "query_on_demand" and f.intention_id.startswith("intention:")
                            for f in facts[0])
    assert {f.relation for f in facts[0]} <= {"used_for_event", "used_for_audience"}
    assert stats["queries"] == 2 and stats["queries_with_facts"] == 2 and stats["generator"] == "fake:fake-1"
    prompts = (ws / SCRATCH / "generate" / "candidates.parquet")
    assert prompts.exists()
    import pyarrow.parquet as pq

    heads = {h.split(" -> ")[0] for h in pq.read_table(prompts).column("head").to_pylist()}
    assert heads == {"gifts for a new dad", "yoga at home"}
    again = generate_for_queries(ws, ["gifts for a new dad"], config)  # answers come from the request cache
    assert again[0] == facts[0]


def test_a_gguf_model_for_another_backend_says_it_switches_to_llama_cpp(tmp_path):
    """`--model student.gguf` with an openai on-demand config runs the file through llama.cpp; that is said, not silent."""
    import pytest

    from intentkg.generate.config import BackendSettings
    from intentkg.knowledge.on_demand import with_model

    student = tmp_path / "student.gguf"
    student.write_bytes(b"GGUF")
    backend = BackendSettings.model_validate({"name": "openai", "model": "served-model",
                                              "options": {"base_url": "http://127.0.0.1:9/v1"}})
    with pytest.warns(UserWarning, match=r"GGUF file: it runs through llama\.cpp, not the configured openai .*base_url"):
        switched = with_model(backend, str(student))
    assert (switched.name, switched.model, switched.options) == ("llama_cpp", str(student.resolve()), {})


def test_the_quickstarts_query_side_config_asks_one_relation_of_the_bundled_smollm2(tmp_path):
    """scripts/on_demand_query.yaml (esci_quickstart.sh ON_DEMAND=1) as the on-demand path reads it, with the
    script's --on-demand-model: the relation docs/eval.md measured, the chat template the model needs."""
    from pathlib import Path

    from intentkg.knowledge.on_demand import _generate_config
    from intentkg.workspace import Workspace

    config = Path(__file__).resolve().parents[2] / "scripts" / "on_demand_query.yaml"
    generate = _generate_config(Workspace(tmp_path / "ws"), config, "smollm2-135m-instruct")
    assert generate.relations == ["used_for_function"]
    assert (generate.backend.name, generate.backend.model) == ("llama_cpp", "smollm2-135m-instruct")
    assert generate.template == "auto"  # qa_chat for a chat model: the template the measured answers came from
