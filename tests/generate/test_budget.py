from intentkg.generate.budget import SECONDS_PER_PROMPT, expected_time


def test_expected_time_before_a_long_run():
    assert expected_time(int(120 / SECONDS_PER_PROMPT)).startswith("200 prompts, ~2 min with the bundled model")
    assert "under a minute" in expected_time(3)
    assert expected_time(50, "openai", "Qwen/Qwen2.5-7B-Instruct") == \
        "50 prompts to the openai backend (no estimate for this model)"


def test_quickstart_estimate_for_the_assessment_shape():
    from intentkg.generate.budget import path_estimate

    # 150 queries, 6,678 pairs, ~6,600 products, 300 types, 150 behaviours, 2 relations:
    # (150 + 300 + 150) x 2 = 1,200 prompts x 0.5 = 600 s, 6,600 titles x 0.02 = 132 s,
    # 6,678 pairs x 0.016 = 107 s, 120 s fixed: 959 CPU-s, ~16 min, within the 60-minute limit
    text = path_estimate(150, 6678, 6600, 300, 150, 2)
    assert "1200 prompts" in text and "Expected ~16 CPU-min" in text and "generation ~10" in text
    assert "title embedding ~2" in text and "evaluation ~2" in text
    assert "(150 behaviours + 300 product types + 150 queries, x 2 relations)" in text
    assert "100 product types" in path_estimate(10, 50, 100, 300, 5, 1)  # never more types than products
    # the quickstart's catalogue also asks used_with: 300 more prompts, 2.5 more CPU-min
    text = path_estimate(150, 6678, 6600, 300, 150, 2, 3)
    assert "1500 prompts" in text and "x 2 relations; the types x 3)" in text and "Expected ~18 CPU-min" in text
