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


def expected_time(prompts: int, backend: str = "llama_cpp", model: str = "gemma3-270m", workers: int = 1) -> str:
    """'~N min ...' for ``prompts`` new prompts (answers already in the request cache cost nothing) on
    ``workers`` decoders of one free core each. Gemma's constant is CPU time of one decoder, so the
    workers share it (the quickstart's 300 catalogue prompts: ~75 s on 2 workers, 8 Dec 2026); SmolLM2's
    is the wall time of its measured run, taken as it is."""
    if backend != "llama_cpp" or model not in BUNDLED:
        return f"{prompts} prompts to the {backend} backend (no estimate for this model)"
    share = max(1, workers) if model == "gemma3-270m" else 1
    minutes = prompts * SECONDS_PER_PROMPT_BY_MODEL[model] / share / 60
    when = f"~{minutes:.0f} min" if minutes >= 1 else "under a minute"
    where = "a free CPU core" if share == 1 else f"{share} free CPU cores ({share} decoder workers)"
    return f"{prompts} prompts, {when} with the bundled model on {where} (more on a busy machine)"


# CPU-seconds of the README's ESCI quickstart per unit, measured on esci-dev on 2 free cores
# (scripts/esci_quickstart.sh with its defaults, fresh workspaces: 7 Dec 2026 twice on an Intel Xeon,
# 8 Dec once on an AMD EPYC, load ~1; docs/eval.md "Measured"): the catalogue stage 216-235 CPU-s, of
# it ~60 s embedding and clustering 6,082 titles on one thread and ~75 s wall generating and filtering
# 300 prompts on two decoder workers (~0.5 CPU-s a prompt); the 30-seed fusion evaluation 197 CPU-s for
# 6,112 pairs (~0.018 a pair of pair features and 10 head seeds, ~0.007 a pair for each 10 seeds more:
# 133 CPU-s with 30 seeds against ~50 with 10 on 3 Dec); model loads, filter and ingest ~30 s. The
# earlier constants (0.8 / 0.02 / 0.04 / 120) came from a run at load 16-24 and said ~15 CPU-min for
# a path that took 7.3 CPU-min (5.5 min wall) on free cores.
PATH_CPU_SECONDS = {"prompt": 0.5, "title": 0.01, "pair": 0.018, "fixed": 30.0}
PAIR_CPU_SECONDS_PER_10_SEEDS = 0.007
# generation runs on every core (one decoder worker each, 2 here); the other stages on one thread
GENERATION_WORKERS = 2
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
    wall = total - (prompts - on_demand_prompts) * c["prompt"] * (1 - 1 / GENERATION_WORKERS)
    detail = ", ".join(f"{name} ~{seconds / 60:.0f}" if round(seconds / 60) >= 1 else f"{name} <1" for name, seconds in parts.items())
    return (f"ESCI quickstart: {queries} queries, {pairs} pairs, {products} products -> {prompts} prompts "
            f"({' + '.join(asked)}). Expected ~{total / 60:.0f} CPU-min ({detail}): about "
            f"{max(1, round(wall / 60))} min on 2 free cores (generation on both, the other stages on one "
            f"thread), several times more on a busy machine. "
            f"Answers and embeddings are cached: a re-run costs only what changed.")
