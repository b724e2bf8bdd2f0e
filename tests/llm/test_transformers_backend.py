"""The transformers backend on a tiny, randomly initialised Llama built offline (safetensors only)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from intentkg.errors import ConfigError
from intentkg.llm.protocol import Request, SamplingParams

pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>{% endif %}")


def _tiny_model(folder: Path, chat: bool) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    corpus = ["A customer bought a tent and a sleeping bag.", "They are both used for camping trips.",
              "1. hiking\n2. camping\n3. fishing", "Question: why? Answer: because"] * 20
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=300, special_tokens=["<s>", "</s>", "<pad>"],
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    if chat:
        fast.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256,
                         bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                         pad_token_id=fast.pad_token_id)
    LlamaForCausalLM(config).save_pretrained(folder, safe_serialization=True)
    fast.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    base = tmp_path_factory.mktemp("tiny")
    return _tiny_model(base / "plain", chat=False), _tiny_model(base / "chat", chat=True)


def test_completion_is_seeded_stopped_and_has_logprobs(tiny):
    from intentkg.llm.transformers_backend import TransformersBackend

    backend = TransformersBackend(model=str(tiny[0]), threads=1)
    info = backend.info()
    assert info.chat is False and len(info.model_hash) == 64 and info.path == str(tiny[0])
    params = SamplingParams(temperature=1.0, top_p=0.95, max_tokens=12, n=2, seed=1, stop=("\n\n",))
    request = Request(key="k1", params=params, prompt="Question: why? Answer:")
    first = backend.generate([request])[0]
    again = backend.generate([Request(key="other", params=params, prompt="x"), request])[1]
    assert first.error is None and len(first.completions) == 2
    assert [c.text for c in first.completions] == [c.text for c in again.completions]
    c = first.completions[0]
    assert c.finish_reason in ("stop", "length") and c.completion_tokens <= 12 and c.prompt_tokens > 0
    if c.text:
        assert c.token_offsets[0] == 0 and all(lp <= 0 and math.isfinite(lp) for lp in c.token_logprobs)
    greedy = SamplingParams(temperature=0.0, max_tokens=6, n=1, stop=("\n",), logprobs=False)
    g = backend.generate([Request(key="g", params=greedy, prompt="A customer")])[0].completions[0]
    assert "\n" not in g.text and g.token_logprobs is None


def test_chat_template_is_detected_and_applied(tiny):
    from intentkg.llm.transformers_backend import TransformersBackend

    backend = TransformersBackend(model=str(tiny[1]))
    assert backend.info().chat is True
    params = SamplingParams(max_tokens=5, n=1, seed=2)
    result = backend.generate([Request(key="c", params=params, messages=({"role": "user", "content": "hi"},))])[0]
    assert result.error is None and result.completions[0].prompt_tokens > 3


def test_pickled_weights_and_missing_models_are_refused(tmp_path):
    from intentkg.llm.transformers_backend import TransformersBackend

    folder = tmp_path / "pickled"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ConfigError, match="no \\*.safetensors weights"):
        TransformersBackend(model=str(folder))
    with pytest.raises(ConfigError, match="cannot get it from the Hugging Face Hub"):
        TransformersBackend(model="intentkg-test/does-not-exist")
