"""Candidate rows (the CANDIDATES table) from one call's answers."""

from __future__ import annotations

from typing import Any

from intentkg.generate.parse import parse_answer
from intentkg.generate.plan import PlannedCall
from intentkg.llm.protocol import Completion, ModelInfo, span_logprob
from intentkg.workspace.fingerprint import short_id


def candidate_rows(call: PlannedCall, completions: list[Completion], *, prompt_id: str, template_version: str,
                   model: ModelInfo, max_items: int) -> list[dict[str, Any]]:
    """One row per parsed item of every sample; an answer with no item still gives one row."""
    rows = []
    for sample, completion in enumerate(completions):
        items = parse_answer(completion.text, primer=call.primer, finish_reason=completion.finish_reason,
                             cue=call.cue, max_items=max_items)
        for item in items:
            logprob, tokens = (None, None)
            if item.tail is not None and item.start is not None and item.end is not None:
                logprob, tokens = span_logprob(completion, item.start, item.end)
            rows.append({
                "candidate_id": short_id(call.behavior_id, call.request.key, sample, item.position),
                "behavior_id": call.behavior_id,
                "kind": call.kind,
                "head": call.head,
                "relation": call.relation,
                "tail": item.tail,
                "position": item.position,
                "raw_text": completion.text,
                "parse_status": item.status,
                "prompt_id": prompt_id,
                "template_version": template_version,
                "model_id": model.model_id,
                "model_hash": model.model_hash,
                "request_key": call.request.key,
                "sample": sample,
                "tail_logprob": logprob,
                "tail_tokens": tokens,
                "shown_examples": list(call.shown),
                "head_type": call.head_type,
            })
    return rows
