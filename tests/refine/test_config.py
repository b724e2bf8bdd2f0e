"""refine.yaml: the judge's model is given as `intentkg generate` gives its backend (one settings class)."""

from __future__ import annotations

import pytest

from intentkg.errors import ConfigError
from intentkg.generate.config import BackendSettings
from intentkg.refine.config import load_config


def test_the_judge_backend_is_the_generate_stage_s_backend_settings(tmp_path):
    path = tmp_path / "refine.yaml"
    path.write_text("reward:\n  weights: {judge: 0.5}\n  judge:\n"
                    "    backend: {name: openai, model: judge-model, options: {base_url: 'http://127.0.0.1:9/v1'}}\n"
                    "    max_tokens: 64\n")
    judge = load_config(path).reward.judge
    assert isinstance(judge.backend, BackendSettings)
    assert (judge.backend.name, judge.backend.model, judge.max_tokens) == ("openai", "judge-model", 64)
    assert judge.backend.options == {"base_url": "http://127.0.0.1:9/v1"}


def test_a_misspelt_backend_key_names_the_file_and_the_key(tmp_path):
    path = tmp_path / "refine.yaml"
    path.write_text("reward:\n  judge:\n    backend: {nmae: openai}\n")
    with pytest.raises(ConfigError, match=r"refine\.yaml: reward\.judge\.backend\.nmae"):
        load_config(path)
