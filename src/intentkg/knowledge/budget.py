"""How long generation will take, said before a long run starts.

Measured with the bundled Gemma 3 270M (Q4_K_M) through llama.cpp on 2 shared CPU cores: one
prompt (few-shot prompt with its shared prefix in the KV cache, an answer of three short items,
48 tokens at most) takes about :data:`SECONDS_PER_PROMPT` seconds. Other models and machines
differ; the estimate is printed as such.
"""

from __future__ import annotations

SECONDS_PER_PROMPT = 1.0


def expected_minutes(prompts: int, seconds_per_prompt: float = SECONDS_PER_PROMPT) -> str:
    minutes = prompts * seconds_per_prompt / 60
    return f"~{minutes:.0f} min with the bundled Gemma on 2 CPU cores" if minutes >= 1 else "under a minute"
