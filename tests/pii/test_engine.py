"""The model-based recogniser plugs in through INTENTKG_PII_MODEL; nothing is downloaded."""

import pytest
import spacy

from intentkg.errors import ConfigError
from intentkg.pii import scrub
from intentkg.pii.engine import MODEL_ENV, analyzer


@pytest.fixture(scope="module")
def person_pipeline(tmp_path_factory):
    """A real spaCy pipeline on disk whose entity ruler tags two names as PERSON (no weights needed)."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": [{"LOWER": "jane"}, {"LOWER": "doe"}]},
                        {"label": "PERSON", "pattern": [{"LOWER": "wei"}, {"LOWER": "chen"}]}])
    folder = tmp_path_factory.mktemp("pii_model") / "person_ner"
    nlp.to_disk(folder)
    return folder


def test_without_a_model_names_outside_my_name_is_stay(monkeypatch):
    monkeypatch.delenv(MODEL_ENV, raising=False)
    assert scrub("gift for jane doe").text == "gift for jane doe"
    assert scrub("my name is jane doe").text == "my name is [PERSON]"


def test_a_spacy_pipeline_on_disk_adds_person_names(monkeypatch, person_pipeline):
    monkeypatch.setenv(MODEL_ENV, f"spacy:{person_pipeline}")
    result = scrub("gift for Jane Doe and wei chen, call 555-867-5309")
    assert result.text == "gift for [PERSON] and [PERSON], call [PHONE]"
    assert dict(result.found) == {"PERSON": 2, "PHONE": 1}
    assert scrub("harry potter book").text == "harry potter book"  # only what the model tags


@pytest.mark.parametrize("setting, message", [
    ("spacy:en_core_web_not_installed", "no spaCy pipeline"),
    ("spacy:/nonexistent/folder", "no spaCy pipeline"),
    ("gliner:/some/folder", "not understood"),
])
def test_a_model_that_is_not_on_disk_is_a_config_error(setting, message):
    with pytest.raises(ConfigError, match=message):
        analyzer(setting)


def test_loading_presidio_does_not_import_torch_and_leaves_it_importable():
    # Presidio imports transformers (and torch) whenever installed: tens of seconds before a server's
    # first answer on a loaded machine (the serving test's client timed out on the old import)
    import subprocess
    import sys

    code = ("import sys; from intentkg.pii import prepare, scrub; prepare(); "
            "assert scrub('call 555-867-5309').text == 'call [PHONE]'; "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules)); "
            "import importlib.util; print(importlib.util.find_spec('transformers') is not None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.split() == ["[]", "True"]
