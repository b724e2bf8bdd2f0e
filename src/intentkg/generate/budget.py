"""How long generation will take, said before a long run starts.

Measured with the bundled Gemma 3 270M (Q4_K_M) through llama.cpp's batched decoder (8
sequences, one thread), esci-dev, 299 query-only prompts of ~180 tokens (shared prefix in the KV
cache) with answers of ~13 tokens: 177 CPU-seconds, 0.59 CPU-s a prompt (the single stream: 0.81).
With one core free that is about :data:`SECONDS_PER_PROMPT` s of wall time; on a machine shared with
other jobs it is several times more (the same run took 857 s of wall time at a load of ~10 on 2
cores). Other models and machines differ: the estimate says so.
"""

from __future__ import annotations

SECONDS_PER_PROMPT = 0.6
BUNDLED = ("gemma3-270m", "smollm2-135m-instruct")


def expected_time(prompts: int, backend: str = "llama_cpp", model: str = "gemma3-270m") -> str:
    """'~N min ...' for ``prompts`` new prompts (answers already in the request cache cost nothing)."""
    if backend != "llama_cpp" or model not in BUNDLED:
        return f"{prompts} prompts to the {backend} backend (no estimate for this model)"
    minutes = prompts * SECONDS_PER_PROMPT / 60
    when = f"~{minutes:.0f} min" if minutes >= 1 else "under a minute"
    return f"{prompts} prompts, {when} with the bundled model on a free CPU core (more on a busy machine)"
