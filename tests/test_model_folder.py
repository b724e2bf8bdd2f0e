"""The one model-folder loader (issue 11, item 10): bundled names, folders and cached Hub ids found
the same way; pickled weights refused without being unpickled; no remote code; a damaged file is
one line; a hash for manifests. On the old code each loader had its own rules: the embedder handed
a folder holding only ``pytorch_model.bin`` to ``torch.load`` (stopped only by torch's
``weights_only`` unpickler, surfacing as a raw UnpicklingError traceback) and the cross-encoder
raised a raw OSError; neither was a ConfigError saying what to do."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import pytest
from helpers.filter_workspace import make_tiny_critic

from intentkg.errors import ConfigError
from intentkg.model_folder import bundled_path, resolve


class _Boom:
    """Unpickling this writes a marker file: proof that something unpickled it."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "unpickled"))


def _pickled_folder(root: Path, marker: Path) -> Path:
    folder = make_tiny_critic(root, "single")
    for weights in folder.glob("*.safetensors"):
        weights.unlink()
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(_Boom(marker)))
    return folder


def test_bundled_minilm_resolves_with_its_weights_and_hashes():
    folder = resolve("all-MiniLM-L6-v2")
    assert folder.path == bundled_path("all-MiniLM-L6-v2") and [w.name for w in folder.weights] == ["model.safetensors"]
    expected = hashlib.sha256((folder.path / "model.safetensors").read_bytes()).hexdigest()
    assert folder.weights_hash() == expected  # the embedding caches' key, as before
    assert len(folder.hash()) == 64 and folder.hash() == resolve(str(folder.path)).hash()
    assert bundled_path("not-a-bundled-model") is None


def test_hash_changes_with_any_config_or_weight(tmp_path):
    folder = make_tiny_critic(tmp_path / "c", "single")
    before = resolve(folder).hash()
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "num_labels": 1, "extra": 1}))
    assert resolve(folder).hash() != before


@pytest.mark.parametrize("loader", ["embedder", "cross-encoder", "critic", "transformers"])
def test_pickled_weights_are_refused_and_never_unpickled(tmp_path, loader):
    marker = tmp_path / "marker"
    folder = _pickled_folder(tmp_path / "m", marker)
    with pytest.raises(ConfigError, match=r"pickled weights \(pytorch_model.bin\).*never unpickles"):
        if loader == "embedder":
            from intentkg.embed import load_embedder
            load_embedder(str(folder))
        elif loader == "cross-encoder":
            from intentkg.eval.features import CrossEncoder
            CrossEncoder(str(folder))
        elif loader == "critic":
            from intentkg.filter.critic import Critic
            Critic(folder)
        else:
            from intentkg.llm.transformers_backend import TransformersBackend
            TransformersBackend(model=str(folder))
    assert not marker.exists()


def test_a_pickled_sub_module_is_refused_too(tmp_path):
    """A sentence-transformers folder whose Dense layer is pickled (sentence-transformers unpickles it)."""
    folder = make_tiny_critic(tmp_path / "m", "single")
    (folder / "2_Dense").mkdir()
    (folder / "2_Dense" / "pytorch_model.bin").write_bytes(b"x")
    with pytest.raises(ConfigError, match="2_Dense/pytorch_model.bin"):
        resolve(folder)


def test_a_damaged_weights_file_is_one_line_naming_it(tmp_path):
    folder = make_tiny_critic(tmp_path / "m", "single")
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ConfigError) as caught:
        resolve(folder, what="encoder")
    message = str(caught.value)
    assert "\n" not in message and f"encoder {folder}: model.safetensors is damaged or incomplete" in message


def test_remote_code_never_runs(tmp_path):
    from transformers import AutoModelForSequenceClassification

    marker = tmp_path / "marker"
    folder = make_tiny_critic(tmp_path / "m", "single")
    (folder / "evil.py").write_text(f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
                                    "from transformers import BertConfig as EvilConfig\n")
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "evil.EvilConfig", "AutoModelForSequenceClassification": "evil.EvilConfig"}
    (folder / "config.json").write_text(json.dumps(config))
    try:
        resolve(folder).load(AutoModelForSequenceClassification)
    except ConfigError:
        pass  # refusing is fine; running evil.py is not
    assert not marker.exists()


def test_missing_things_say_what_to_give(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError, match="neither a bundled model .* nor an existing folder"):
        resolve(tmp_path / "nope")
    with pytest.raises(ConfigError, match="not in the local Hugging Face cache and HF_HUB_OFFLINE=1"):
        resolve("intentkg-test/does-not-exist")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="has no config.json"):
        resolve(tmp_path / "empty", what="critic folder")
    with pytest.raises(ConfigError, match="has no \\*.safetensors weights"):
        resolve(tmp_path / "empty", require=())


def test_a_hub_id_resolves_from_the_local_cache_offline(tmp_path, monkeypatch):
    """An id already in the Hugging Face cache is found without a network (HF_HUB_OFFLINE=1)."""
    from huggingface_hub import constants

    commit = "0" * 40
    snapshot = tmp_path / "hub" / "models--intentkg-test--tiny" / "snapshots" / commit
    make_tiny_critic(snapshot, "single")
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text(commit)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = resolve("intentkg-test/tiny")
    assert folder.path == snapshot and folder.name == "intentkg-test/tiny"
