from intentkg.generate.budget import SECONDS_PER_PROMPT, expected_time


def test_expected_time_before_a_long_run():
    assert expected_time(int(120 / SECONDS_PER_PROMPT)).startswith("200 prompts, ~2 min with the bundled model")
    assert "under a minute" in expected_time(3)
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
    text = path_estimate(150, 6678, 6600, 300, 3, behaviours=150, relations=2, on_demand=True)
    assert "1500 prompts (300 product types x 3 relations + 150 behaviours x 2 relations + 150 queries x 2 relations)" in text
    assert "Expected ~29 CPU-min" in text
