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

    # the quickstart: 150 queries, 6,678 pairs, ~6,600 products, 300 types x 1 relation (used_with), 10 seeds:
    # 300 prompts x 0.5 = 150 s, 6,600 titles x 0.01 = 66 s, 6,678 pairs x 0.018 = 120 s, 30 s fixed:
    # 366 CPU-s, ~6 CPU-min; the prompts on 2 workers take 75 s of wall time: 291 s, ~5 min
    text = path_estimate(150, 6678, 6600, 300)
    assert "-> 300 prompts (300 product types x 1 relation)" in text and "Expected ~6 CPU-min" in text
    assert "generation ~2" in text and "title embedding ~1" in text and "evaluation ~2" in text
    assert "model loads, filter <1" in text and "about 5 min on 2 free cores" in text
    assert "100 product types" in path_estimate(10, 50, 100, 300)  # never more types than products
    # the previous path: behaviours and on-demand queries x 2 relations, the catalogue x 3
    # 900 + 300 Gemma prompts x 0.5 = 600 s (300 s wall), 300 SmolLM2 query prompts x 1.7 = 510 s (one
    # stream): 1,326 CPU-s, ~22 CPU-min, ~17 min
    text = path_estimate(150, 6678, 6600, 300, 3, behaviours=150, relations=2, on_demand=True)
    assert "1500 prompts (300 product types x 3 relations + 150 behaviours x 2 relations + 150 queries x 2 relations)" in text
    assert "Expected ~22 CPU-min" in text and "about 17 min on 2 free cores" in text


def test_the_estimate_matches_the_quiet_esci_dev_runs():
    """esci-dev's quickstart on 2 free cores, 30 head seeds (7 and 8 Dec 2026): 7.3 CPU-min, 4.6-5.5 min
    wall. The constants before 8 Dec (from a run at load 16-24) said ~15 CPU-min and 'about that in minutes'."""
    from intentkg.generate.budget import path_estimate

    text = path_estimate(299, 6112, 6082, 300, seeds=30)
    assert "Expected ~7 CPU-min" in text and "about 6 min on 2 free cores" in text


def test_quickstart_estimate_with_the_query_side_and_30_seeds():
    from intentkg.generate.budget import path_estimate

    # the catalogue's 300 used_with prompts (150 s, 75 s wall) + 150 on-demand queries x 1 relation at 1.7
    # (255 s), 6,678 pairs x (0.018 + 2 x 0.007) with 30 seeds (214 s), titles 66 s, fixed 30 s: 715 CPU-s
    # (~12 CPU-min), 640 s wall (~11 min; esci-dev's 299 queries took 11.6 min at load 1-3 on 3 Dec)
    text = path_estimate(150, 6678, 6600, 300, on_demand=True, query_relations=1, seeds=30)
    assert "-> 450 prompts (300 product types x 1 relation + 150 queries x 1 relation)" in text
    assert "Expected ~12 CPU-min" in text and "generation ~7" in text and "evaluation ~4" in text
    assert "about 11 min on 2 free cores" in text
    # no query relation asked: no query prompts
    assert "queries x" not in path_estimate(150, 6678, 6600, 300, on_demand=True)


def test_generation_estimate_shares_gemmas_prompts_over_its_decoder_workers():
    """The quickstart's 300 catalogue prompts took ~75 s on 2 workers (8 Dec 2026); before, the stage
    said '~3 min ... on a free CPU core' whatever the workers."""
    two = expected_time(300, workers=2)
    assert two.startswith("300 prompts, ~2 min") and "2 free CPU cores (2 decoder workers)" in two
    assert expected_time(300, workers=1).startswith("300 prompts, ~3 min")
    # SmolLM2's constant is its measured wall time: not divided
    assert expected_time(299, model="smollm2-135m-instruct", workers=2).startswith("299 prompts, ~8 min")
