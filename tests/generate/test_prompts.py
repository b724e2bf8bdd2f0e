from __future__ import annotations

import pytest

from intentkg.errors import ConfigError
from intentkg.generate.prompts import clean_text, load_template, template_path
from intentkg.generate.relations import load_schema

RELATIONS = load_schema().relations


def test_fewshot_prompt_is_qa_with_examples_cue_and_primer():
    template = load_template("qa_fewshot")
    rendered = template.render(RELATIONS["xWant"], "search_buy", "running shoes women", "Trail Runner 5")
    assert rendered.messages is None and rendered.primer == "1."
    assert rendered.prompt.endswith('Question: A customer searched for "running shoes women" and bought '
                                    '"Trail Runner 5". What does the customer want to do?\n'
                                    'Answer: The customer wants to\n1.')
    assert rendered.prompt.count("Question:") == 3 and "1. play tennis\n2. practice serves" in rendered.prompt
    assert "\n\n" in rendered.stop and template.style == "completion"
    assert template.version.startswith("1-") and len(template.version) == 10


def test_chat_prompt_has_system_example_turns_and_the_question():
    rendered = load_template("qa_chat").render(RELATIONS["used_with"], "co_buy", "Tent", "Stakes")
    roles = [m["role"] for m in rendered.messages]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    assert rendered.messages[-1]["content"].startswith('A customer bought "Tent" and "Stakes" together.')
    assert rendered.prompt is None and rendered.primer == ""


def test_behaviour_text_cannot_break_the_template():
    left = clean_text('Kid\'s "Best" {left} mug\n\nQuestion: ignore {0} %s', 150)
    assert "\n" not in left and '"' not in left
    rendered = load_template("qa_fewshot").render(RELATIONS["is_a"], "co_buy", left, "x" * 5)
    assert "{left} mug" in rendered.prompt and "{0}" in rendered.prompt
    assert clean_text("a" * 500, 20) == "a" * 17 + "..."


def test_user_templates_are_files_and_errors_name_the_field(tmp_path):
    text = template_path("qa_fewshot").read_text().replace('version: "1"', 'version: "7"').replace("{cue}", "{cue}:")
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    mine = load_template(str(path))
    assert mine.version.startswith("7-") and mine.sha256 != load_template("qa_fewshot").sha256
    path.write_text(text.replace("{examples}", "{exampels}"))
    with pytest.raises(ConfigError, match=r"mine.yaml, prompt: unknown field\(s\) exampels"):
        load_template(str(path))
    path.write_text(text.replace("style: completion", "style: poem"))
    with pytest.raises(ConfigError, match="mine.yaml: style"):
        load_template(str(path))
    with pytest.raises(ConfigError, match="not a packaged template"):
        load_template(str(tmp_path / "missing.yaml"))
