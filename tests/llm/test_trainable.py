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


def test_gemma3_from_its_gguf_answers_as_llama_cpp_does():
    """The first half of Gemma 3 270M's train -> merge -> GGUF round trip, the part that takes seconds:
    rebuilt from the bundled Q4_K_M GGUF as a plain float32 transformers model (what LoRA trains and what
    is merged), it writes the same greedy tokens as llama.cpp running the GGUF itself. The whole round
    trip (2 LoRA steps, merge, convert_hf_to_gguf.py, llama.cpp equal to the merged model) takes minutes:
    a documented run in docs/distill.md (scripts/student_round_trip.py)."""
    import torch

    from intentkg.llm.llama_cpp import LlamaCppBackend
    from intentkg.llm.protocol import Request, SamplingParams

    base = load_trainable(bundled.GEMMA, device="cpu")
    assert base.model_hash == file_hash(bundled.gemma_path())
    assert base.model.config.model_type.startswith("gemma3") and base.model.dtype == torch.float32
    prompt = "A customer bought a tent and a sleeping bag. They are used for"
    ids = base.tokenizer(prompt, return_tensors="pt", add_special_tokens=True)
    with torch.inference_mode():
        out = base.model.generate(**ids, max_new_tokens=4, do_sample=False)
    expected = base.tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    # llama.cpp's plain kernels (those the batched decoder uses): its repacked CPU buffers, on where the CPU
    # supports them, compute the quantised matmuls another way, and on this near tie (" a" vs " camping")
    # an AMD EPYC host without AVX-512 then took the other first token than the float32 model
    backend = LlamaCppBackend(model=bundled.GEMMA, parallel=1, n_threads=1, extra_buffers=False)
    try:
        result = backend.generate([Request(key="k", params=SamplingParams(temperature=0.0, max_tokens=4,
                                                                          logprobs=False), prompt=prompt)])[0]
    finally:
        backend.close()
    assert result.error is None and expected.strip() and result.completions[0].text == expected
