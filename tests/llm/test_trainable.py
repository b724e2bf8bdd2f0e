"""A GGUF base becomes a trainable, saveable transformers model (rebuilt from its config, cached as
safetensors); a HF folder loads from safetensors only; the base is recorded by id and file hash."""

from __future__ import annotations

import pytest

from intentkg.errors import ConfigError
from intentkg.llm import bundled
from intentkg.llm.model_files import file_hash
from intentkg.llm.trainable import CONVERTED_MARKER, load_trainable


def test_the_bundled_gguf_loads_trainable_and_round_trips_through_its_folder(tmp_path):
    base = load_trainable(bundled.SMOLLM2, device="cpu")
    assert base.source == "gguf" and base.model_id == bundled.SMOLLM2
    assert base.model_hash == file_hash(bundled.smollm2_path())
    assert not hasattr(base.model.config, "quantization_config")  # rebuilt: trainable and saveable
    assert (base.folder / CONVERTED_MARKER).is_file() and (base.folder / "model.safetensors").is_file()
    assert all(p.requires_grad for p in base.model.parameters())
    assert base.tokenizer.chat_template  # the GGUF's chat template came along
    # the cached folder is itself a HF model folder: it loads as one, hashed by its files
    again = load_trainable(str(base.folder), device="cpu")
    assert again.source == "hf" and again.model_hash != base.model_hash
    a = base.model.get_input_embeddings().weight
    b = again.model.get_input_embeddings().weight
    assert a.shape == b.shape and bool((a == b).all())


def test_bad_bases_name_what_to_give(tmp_path):
    with pytest.raises(ConfigError, match="no such GGUF file"):
        load_trainable(str(tmp_path / "missing.gguf"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no config.json"):
        load_trainable(str(tmp_path / "empty"))
    (tmp_path / "pickled").mkdir()
    (tmp_path / "pickled" / "config.json").write_text("{}")
    (tmp_path / "pickled" / "pytorch_model.bin").write_bytes(b"")
    with pytest.raises(ConfigError, match="pickled weights.*never unpickles"):
        load_trainable(str(tmp_path / "pickled"))
