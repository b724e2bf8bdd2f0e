"""The calls a generate run needs: one per (behaviour, relation), rendered and keyed."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from intentkg.generate.config import GenerateConfig
from intentkg.generate.prompts import Template, clean_text
from intentkg.generate.relations import Relation
from intentkg.generate.request_cache import request_key
from intentkg.llm.protocol import ModelInfo, Request


@dataclass(frozen=True)
class PlannedCall:
    order: int  # place in the output: behaviour order, then relation order
    behavior_id: str
    kind: str
    head: str
    relation: str
    cue: str
    primer: str
    request: Request


def head_text(kind: str, left_text: str, right_text: str) -> str:
    """The behaviour a tail explains, as one line: 'query -> product' or 'product A + product B'."""
    left, right = " ".join(str(left_text).split()), " ".join(str(right_text).split())
    return f"{left} -> {right}" if kind == "search_buy" else f"{left} + {right}"


def plan_calls(behaviors: pa.Table, relations: list[Relation], template: Template, model: ModelInfo,
               config: GenerateConfig) -> list[PlannedCall]:
    """Every call, in output order. Identical prompts share one key (and one cached answer)."""
    calls = []
    columns = [behaviors.column(c).to_pylist() for c in ("behavior_id", "kind", "left_text", "right_text")]
    for b, (behavior_id, kind, left_text, right_text) in enumerate(zip(*columns)):
        left = clean_text(left_text, config.max_text_chars)
        right = clean_text(right_text, config.max_text_chars)
        for r, relation in enumerate(relations):
            rendered = template.render(relation, kind, left, right)
            params = config.sampling.params(rendered.stop)
            key = request_key(model, rendered.prompt, rendered.messages, params)
            request = Request(key=key, params=params, prompt=rendered.prompt, messages=rendered.messages,
                              prefix_splits=rendered.splits)
            calls.append(PlannedCall(order=b * len(relations) + r, behavior_id=behavior_id, kind=kind,
                                     head=head_text(kind, left_text, right_text), relation=relation.name,
                                     cue=relation.cue[kind], primer=rendered.primer, request=request))
    return calls


def execution_order(calls: list[PlannedCall]) -> list[PlannedCall]:
    """By relation, then kind: consecutive prompts share their longest prefix (llama.cpp keeps it in its KV cache)."""
    return sorted(calls, key=lambda c: (c.relation, c.kind, c.order))
