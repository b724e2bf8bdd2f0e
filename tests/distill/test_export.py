"""A LoRA merged into the bundled SmolLM2 and written as GGUF by llama.cpp's own converter loads in
the llama.cpp backend and answers greedily as the merged transformers model does."""

from __future__ import annotations

import torch

from intentkg.distill.export import merge_adapter, save_merged, write_gguf
from intentkg.llm import bundled
from intentkg.llm.llama_cpp import LlamaCppBackend
from intentkg.llm.protocol import Request, SamplingParams
from intentkg.llm.trainable import load_trainable

PROMPT = "<|im_start|>user\nWhat is a tent used for?<|im_end|>\n<|im_start|>assistant\n"
NEW_TOKENS = 8


def _greedy(model, tokenizer) -> list[int]:
    ids = tokenizer(PROMPT, return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        out = model.generate(**ids, max_new_tokens=NEW_TOKENS, do_sample=False)
    return out[0, ids["input_ids"].shape[1]:].tolist()


def test_merged_lora_as_gguf_answers_like_the_merged_model(tmp_path, convert_script):
    from peft import LoraConfig, get_peft_model

    base = load_trainable(bundled.SMOLLM2, device="cpu")
    tokenizer = base.tokenizer
    before = _greedy(base.model, tokenizer)
    torch.manual_seed(0)  # a random (not zero) LoRA, small enough to keep the model coherent
    peft_model = get_peft_model(base.model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                                      init_lora_weights=False))
    for name, weight in peft_model.named_parameters():
        if "lora_B" in name:
            weight.data.mul_(0.1)
    merged = merge_adapter(peft_model)
    after = _greedy(merged, tokenizer)
    assert after != before  # the merge changed the answer, so the GGUF below must carry the merge
    folder = save_merged(merged, tokenizer, tmp_path / "merged")
    assert sorted(p.name for p in folder.glob("*.safetensors")) == ["model.safetensors"]
    assert not list(folder.glob("*.bin")) and not list(folder.glob("*.pt"))
    gguf = write_gguf(folder, tmp_path / "student.gguf", convert_script=convert_script)

    backend = LlamaCppBackend(model=str(gguf), parallel=1, n_threads=1)
    try:
        result = backend.generate([Request(key="k", params=SamplingParams(temperature=0.0, max_tokens=NEW_TOKENS,
                                                                          logprobs=False), prompt=PROMPT)])[0]
        assert result.error is None
        assert result.completions[0].text == tokenizer.decode(after)
        assert backend.info().chat is True  # the chat template travelled into the GGUF
    finally:
        backend.close()
