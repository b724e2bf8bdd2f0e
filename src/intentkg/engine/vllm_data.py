"""vLLM replicas on GPUs through Ray Data LLM (``ray.data.llm``), behind a thin adapter.

``--backend vllm --engine ray``: every sample of every uncached request becomes one row with its own
seed (:func:`intentkg.llm.protocol.sample_seed`, as the offline vLLM backend draws it), the rows go
through ``build_processor(vLLMEngineProcessorConfig(...))`` with ``workers`` replicas of
``gpus_per_worker`` GPUs (tensor parallel when above 1), and the answers are committed to the
request cache block by block as they stream back, so a killed run keeps what had finished. Weights
load with ``trust_remote_code=False`` and ``load_format=safetensors``. Token log-probs are not
requested (the filter then scores completeness with its own scorer).

Not run here: this machine has no GPU (its test is skipped with that reason).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from intentkg.errors import ConfigError
from intentkg.llm.protocol import Completion, Request, Result, sample_seed


def available() -> tuple[bool, str]:
    """(True, "") when vLLM, a GPU and Ray Data LLM are all here, else (False, why not)."""
    from intentkg.llm.vllm_offline import vllm_available

    ok, why = vllm_available()
    if not ok:
        return ok, why
    try:
        from ray.data.llm import build_processor, vLLMEngineProcessorConfig  # noqa: F401
    except Exception as exc:
        return False, f"vllm present but ray.data.llm not importable ({type(exc).__name__}: {exc})"
    return True, ""


def sample_rows(requests: list[Request]) -> list[dict[str, Any]]:
    """One row per sample: what the processor's preprocess turns into a vLLM request."""
    rows = []
    for index, request in enumerate(requests):
        p = request.params
        for sample in range(p.n):
            rows.append({"idx": index, "sample": sample, "prompt": request.prompt,
                         "messages": [dict(m) for m in request.messages] if request.messages is not None else None,
                         "sampling_params": {"temperature": p.temperature, "top_p": p.top_p,
                                             "top_k": p.top_k if p.top_k is not None else -1,
                                             "min_p": p.min_p if p.min_p is not None else 0.0,
                                             "repetition_penalty": p.repeat_penalty or 1.0,
                                             "max_tokens": p.max_tokens, "stop": list(p.stop) or None,
                                             "seed": sample_seed(request.key, sample)}})
    return rows


def generate(engine, model_path: str, requests: list[Request], store, engine_kwargs: dict | None = None) -> int:
    """Answer ``requests`` on vLLM replicas; ``store(requests, results)`` commits each finished group.
    Returns the number of requests answered."""
    ok, why = available()
    if not ok:
        raise ConfigError(f"--backend vllm --engine ray cannot run here: {why}")
    import ray.data
    from ray.data.llm import build_processor, vLLMEngineProcessorConfig

    s = engine.settings
    chat = any(r.messages is not None for r in requests)
    config = vLLMEngineProcessorConfig(
        model_source=model_path, concurrency=s.workers, batch_size=64, apply_chat_template=chat,
        engine_kwargs={"trust_remote_code": False, "load_format": "safetensors",
                       "tensor_parallel_size": max(1, int(s.gpus_per_worker)), **(engine_kwargs or {})})
    processor = build_processor(
        config,
        preprocess=lambda row: {k: v for k, v in row.items() if v is not None},  # prompt or messages
        postprocess=lambda row: {"idx": row["idx"], "sample": row["sample"], "text": row.get("generated_text") or "",
                                 "prompt_tokens": row.get("num_input_tokens"),
                                 "completion_tokens": row.get("num_generated_tokens")})
    pending: dict[int, dict[int, Completion]] = defaultdict(dict)
    answered = 0
    for batch in processor(ray.data.from_items(sample_rows(requests))).iter_batches(batch_format="pandas"):
        done = []
        for row in batch.to_dict("records"):
            index = int(row["idx"])
            pending[index][int(row["sample"])] = Completion(text=row["text"], prompt_tokens=row["prompt_tokens"],
                                                            completion_tokens=row["completion_tokens"])
            if len(pending[index]) == requests[index].params.n:
                done.append(index)
        if done:
            store([requests[i] for i in done],
                  [Result(requests[i].key, [pending[i][k] for k in sorted(pending.pop(i))]) for i in done])
            answered += len(done)
    return answered
