"""The critic step loads any sequence-classification folder of the documented layouts (real transformers)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers.filter_workspace import make_tiny_critic

from intentkg.errors import ConfigError
from intentkg.filter.critic import DEFAULT_TEMPLATE, Critic, critic_input

pytest.importorskip("transformers")

HEADS = ["winter tent -> Trailblazer Dome Tent", "baby blanket -> Cozy Swaddle", "winter tent -> Trailblazer Dome Tent"]
RELATIONS = ["used_for_event", "used_for_audience", "used_for_event"]
TAILS = ["winter camping", "new parents", "winter camping"]


@pytest.mark.parametrize("layout,tasks", [("multi_label", ["plausibility", "typicality"]),
                                          ("two_heads", ["plausibility", "typicality"]),
                                          ("single", ["plausibility"])])
def test_layouts(tmp_path, layout, tasks):
    folder = make_tiny_critic(tmp_path / layout, layout)
    critic = Critic(folder, batch_size=2)
    assert critic.tasks == tasks
    assert critic.critic_id.startswith(f"tiny-{layout}@") and critic.max_length == 64
    scores = critic.score(HEADS, RELATIONS, TAILS)
    for task in tasks:
        values = scores[task]
        assert values.shape == (3,) and np.all((values > 0) & (values < 1))
        assert values[0] == values[2]  # same text, same score
        assert values[0] != values[1]  # different text, different score
    again = Critic(folder).score(HEADS[:1], RELATIONS[:1], TAILS[:1])
    assert again[tasks[0]][0] == pytest.approx(scores[tasks[0]][0], abs=1e-4)


def test_task_and_template_come_from_the_meta_file(tmp_path):
    folder = make_tiny_critic(tmp_path / "c", "single")
    (folder / "intentkg_critic.json").write_text(json.dumps({"task": "typicality", "template": "{tail} ({relation})"}))
    critic = Critic(folder)
    assert critic.tasks == ["typicality"] and critic.template == "{tail} ({relation})"


def test_critic_input_template():
    assert critic_input("a  b", "used_for_event", " winter camping ") == "a b | used for event | winter camping"
    assert DEFAULT_TEMPLATE == "{head} | {relation} | {tail}"


def test_refuses_folders_without_safetensors(tmp_path):
    folder = make_tiny_critic(tmp_path / "c", "single")
    for weights in folder.glob("*.safetensors"):
        weights.unlink()
    with pytest.raises(ConfigError, match="safetensors"):
        Critic(folder)
    with pytest.raises(ConfigError, match="not a folder"):
        Critic(tmp_path / "missing")


def test_labels_named_tasks_need_multi_label(tmp_path):
    folder = make_tiny_critic(tmp_path / "c", "multi_label")
    config = json.loads((folder / "config.json").read_text())
    config["problem_type"] = "single_label_classification"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="multi_label_classification"):
        Critic(folder)


def test_truncated_weights_are_one_clear_error(tmp_path):
    """Old code: a raw SafetensorError traceback from deep inside transformers."""
    folder = make_tiny_critic(tmp_path / "c", "single")
    weights = next(folder.glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ConfigError, match=f"critic folder {folder}: {weights.name} is damaged or incomplete"
                                          f".*train the critic again"):
        Critic(folder)
