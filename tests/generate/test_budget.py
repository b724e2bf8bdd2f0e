from intentkg.generate.budget import SECONDS_PER_PROMPT, expected_time


def test_expected_time_before_a_long_run():
    assert expected_time(int(120 / SECONDS_PER_PROMPT)).startswith("200 prompts, ~2 min with the bundled model")
    assert "under a minute" in expected_time(3)
    # the bundled SmolLM2's chat prompts measured 1.6 s each: 299 on-demand queries ~8 min, not Gemma's ~3
    assert expected_time(299, model="smollm2-135m-instruct").startswith("299 prompts, ~8 min")
    assert expected_time(299).startswith("299 prompts, ~3 min")
    assert expected_time(50, "openai", "Qwen/Qwen2.5-7B-Instruct") == \
        "50 prompts to the openai backend (no estimate for this model)"


def test_quickstart_estimate_for_the_assessment_shape():
    from intentkg.generate.budget import path_estimate

    # the quickstart: 150 queries, 6,678 pairs, ~6,600 products, 300 types x 1 relation (used_with):
    # 300 prompts x 0.8 = 240 s, 6,600 titles x 0.02 = 132 s, 6,678 pairs x 0.04 = 267 s, 120 s fixed:
    # 759 CPU-s, ~13 min, within the 60-minute limit
    text = path_estimate(150, 6678, 6600, 300)
    assert "-> 300 prompts (300 product types x 1 relation)" in text and "Expected ~13 CPU-min" in text
    assert "generation ~4" in text and "title embedding ~2" in text and "evaluation ~4" in text
    assert "100 product types" in path_estimate(10, 50, 100, 300)  # never more types than products
    # the previous path: behaviours and on-demand queries x 2 relations, the catalogue x 3
    # 900 + 300 Gemma prompts x 0.8 = 960 s, 300 SmolLM2 query prompts x 1.7 = 510 s: 1,989 CPU-s
    text = path_estimate(150, 6678, 6600, 300, 3, behaviours=150, relations=2, on_demand=True)
    assert "1500 prompts (300 product types x 3 relations + 150 behaviours x 2 relations + 150 queries x 2 relations)" in text
    assert "Expected ~33 CPU-min" in text


def test_quickstart_estimate_with_the_query_side_and_30_seeds():
    from intentkg.generate.budget import path_estimate

    # the catalogue's 300 used_with prompts (240 s) + 150 on-demand queries x 1 relation at 1.7 (255 s),
    # 6,678 pairs x (0.04 + 2 x 0.015) with 30 seeds (467 s), titles 132 s, fixed 120 s: 1,214 CPU-s
    text = path_estimate(150, 6678, 6600, 300, on_demand=True, query_relations=1, seeds=30)
    assert "-> 450 prompts (300 product types x 1 relation + 150 queries x 1 relation)" in text
    assert "Expected ~20 CPU-min" in text and "generation ~8" in text and "evaluation ~8" in text
    # no query relation asked: no query prompts
    assert "queries x" not in path_estimate(150, 6678, 6600, 300, on_demand=True)
