import pytest
from pydantic import BaseModel, ConfigDict

from intentkg.config_file import load_yaml_model
from intentkg.errors import ConfigError


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = 1
    name: str = "x"


def test_reads_yaml_and_names_every_bad_key(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("limit: 3\n")
    assert load_yaml_model(good, Example).limit == 3
    bad = tmp_path / "bad.yaml"
    bad.write_text("limit: many\ncolour: red\n")
    with pytest.raises(ConfigError) as err:
        load_yaml_model(bad, Example, "docs/example.md")
    text = str(err.value)
    assert "bad.yaml" in text and "limit" in text and "colour" in text and "docs/example.md" in text


def test_unreadable_yaml_and_missing_file(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("limit: [1, 2\n")
    with pytest.raises(ConfigError, match="cannot read config"):
        load_yaml_model(broken, Example)
    with pytest.raises(ConfigError, match="cannot read config"):
        load_yaml_model(tmp_path / "missing.yaml", Example)
