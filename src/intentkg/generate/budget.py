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
# per bundled model: SmolLM2-135M-Instruct (Q4_1) through its chat template measured 1.6 s wall a prompt
# (299 on-demand query prompts of ~210 tokens, 480 s wall / 497 CPU-s, 3 Dec 2026, load 2-4): the
# 135M model is the slower one here, its chat prompts being longer than Gemma's few-shot ones
SECONDS_PER_PROMPT_BY_MODEL = {"gemma3-270m": SECONDS_PER_PROMPT, "smollm2-135m-instruct": 1.6}


def expected_time(prompts: int, backend: str = "llama_cpp", model: str = "gemma3-270m") -> str:
    """'~N min ...' for ``prompts`` new prompts (answers already in the request cache cost nothing)."""
    if backend != "llama_cpp" or model not in BUNDLED:
        return f"{prompts} prompts to the {backend} backend (no estimate for this model)"
    minutes = prompts * SECONDS_PER_PROMPT_BY_MODEL[model] / 60
    when = f"~{minutes:.0f} min" if minutes >= 1 else "under a minute"
    return f"{prompts} prompts, {when} with the bundled model on a free CPU core (more on a busy machine)"


# CPU-seconds of the README's ESCI quickstart per unit, measured on esci-dev (2 Dec 2026, third run,
# scripts/esci_quickstart.sh at load 16-24, one torch / llama.cpp thread per stage; docs/eval.md
# "Measured"): a prompt generated and filtered (the catalogue's 300 used_with prompts: 234 CPU-s of
# generation + the filter), a catalogue title embedded and clustered once (the evaluation reads the
# workspace's cache), a pair through the fusion evaluation with 10 head seeds (~165 CPU-s of pair features
# + ~90 of heads for 6,112 pairs), and the fixed part (model loads, filter: rounded up).
PATH_CPU_SECONDS = {"prompt": 0.8, "title": 0.02, "pair": 0.04, "fixed": 120.0}
# each 10 head seeds beyond 10: ~90 CPU-s of heads for esci-dev's 6,112 pairs (the 30-seed fusion run
# of 3 Dec 2026: 133 CPU-s from the embedding cache against ~50 with 10 seeds)
PAIR_CPU_SECONDS_PER_10_SEEDS = 0.015
# CPU-seconds of one on-demand query prompt with the bundled SmolLM2-135M-Instruct (Q4_1), the
# quickstart's query side: 299 esci-dev queries x used_for_function took 497 CPU-s / 480 s wall of
# generation (3 Dec 2026, load 2-4; the chat template's prompts are ~210 tokens), rounded up.
QUERY_PROMPT_CPU_SECONDS = 1.7


def path_estimate(queries: int, pairs: int, products: int, types: int, catalogue_relations: int = 1,
                  behaviours: int = 0, relations: int = 0, on_demand: bool = False,
                  query_relations: int | None = None, seeds: int = 10) -> str:
    """The quickstart's expected time, said before it starts: prompts and CPU-minutes per part.
    The catalogue asks ``catalogue_relations`` per product type; ``behaviours`` x ``relations`` are the
    behaviour KG's prompts and, ``on_demand``, ``queries`` x ``query_relations`` (default ``relations``)
    the query side's, at :data:`QUERY_PROMPT_CPU_SECONDS` a prompt (the bundled SmolLM2); ``seeds``:
    the evaluation's head seeds."""
    c = PATH_CPU_SECONDS
    kinds = min(types, products)
    def times(n: int) -> str:
        return f"x {n} relation{'s' if n != 1 else ''}"

    asked = [f"{kinds} product types {times(catalogue_relations)}"]
    prompts = kinds * catalogue_relations
    if behaviours and relations:
        prompts += behaviours * relations
        asked.append(f"{behaviours} behaviours {times(relations)}")
    on_demand_prompts = 0
    if on_demand:
        per_query = relations if query_relations is None else query_relations
        on_demand_prompts = queries * per_query
        if on_demand_prompts:
            asked.append(f"{queries} queries {times(per_query)}")
    generation = prompts * c["prompt"] + on_demand_prompts * QUERY_PROMPT_CPU_SECONDS
    prompts += on_demand_prompts
    parts = {"generation": generation, "title embedding": products * c["title"],
             "evaluation": pairs * (c["pair"] + max(seeds - 10, 0) / 10 * PAIR_CPU_SECONDS_PER_10_SEEDS),
             "model loads, filter": c["fixed"]}
    total = sum(parts.values())
    detail = ", ".join(f"{name} ~{seconds / 60:.0f}" for name, seconds in parts.items())
    return (f"ESCI quickstart: {queries} queries, {pairs} pairs, {products} products -> {prompts} prompts "
            f"({' + '.join(asked)}). Expected ~{total / 60:.0f} CPU-min ({detail}): about that in "
            f"minutes on 2 free cores (the stages run one thread each), several times more on a busy machine. "
            f"Answers and embeddings are cached: a re-run costs only what changed.")
