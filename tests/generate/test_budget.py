from intentkg.generate.budget import SECONDS_PER_PROMPT, expected_time


def test_expected_time_before_a_long_run():
    assert expected_time(int(120 / SECONDS_PER_PROMPT)).startswith("200 prompts, ~2 min with the bundled model")
    assert "under a minute" in expected_time(3)
    assert expected_time(50, "openai", "Qwen/Qwen2.5-7B-Instruct") == \
        "50 prompts to the openai backend (no estimate for this model)"
