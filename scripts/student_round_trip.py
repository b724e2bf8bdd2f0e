"""Does a student's GGUF answer as its merged model does? Greedy answers of ``<stage>/merged`` (transformers)
and ``<stage>/student.gguf`` (llama.cpp) to the same chat prompt, printed side by side.

    .venv/bin/python scripts/student_round_trip.py ws/distill [--tokens 8] [--question "..."]

The prompt is the merged tokenizer's chat template around one user turn, without its BOS token
(each side adds its own). Exit status 0 when the answers are equal, 1 otherwise. Used for the Gemma 3
270M round trip in docs/distill.md (tests/distill/test_train.py does the same check for SmolLM2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

QUESTION = "A customer bought a tent and a sleeping bag. What are they used for? Answer with a numbered list."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", type=Path, help="the distill stage folder (holding merged/ and student.gguf)")
    parser.add_argument("--tokens", type=int, default=8)
    parser.add_argument("--question", default=QUESTION)
    args = parser.parse_args()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from intentkg.llm.llama_cpp import LlamaCppBackend
    from intentkg.llm.protocol import Request, SamplingParams

    tokenizer = AutoTokenizer.from_pretrained(str(args.stage / "merged"))
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": args.question}], tokenize=False,
                                           add_generation_prompt=True)
    if tokenizer.bos_token and prompt.startswith(tokenizer.bos_token):
        prompt = prompt[len(tokenizer.bos_token):]
    merged = AutoModelForCausalLM.from_pretrained(str(args.stage / "merged"), use_safetensors=True,
                                                  dtype=torch.float32)
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=True)
    with torch.inference_mode():
        out = merged.generate(**ids, max_new_tokens=args.tokens, do_sample=False)
    expected = tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    backend = LlamaCppBackend(model=str(args.stage / "student.gguf"), parallel=1, n_threads=1)
    try:
        result = backend.generate([Request(key="k", params=SamplingParams(temperature=0.0, max_tokens=args.tokens,
                                                                          logprobs=False), prompt=prompt)])[0]
    finally:
        backend.close()
    got = result.completions[0].text if result.error is None else f"<error: {result.error}>"
    print(f"prompt:            {prompt!r}\nmerged (transformers): {expected!r}\nstudent.gguf (llama.cpp): {got!r}")
    print("equal" if got == expected else "DIFFERENT")
    return 0 if got == expected else 1


if __name__ == "__main__":
    sys.exit(main())
