"""The calls a generate run needs: one per (behaviour, relation), rendered and keyed.

Each prompt shows worked answers drawn for it from the relation's pool (:mod:`.examples`); which
ones is recorded with the call (``shown``) and on every candidate (``shown_examples``). With
``granularity: product_type`` a prompt names the product type instead of the behaviour
(:mod:`intentkg.product_types`), so every behaviour whose product has that type shares one prompt,
one request key and one cached answer: the cost grows with types, not with products.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from intentkg.generate.config import GenerateConfig
from intentkg.generate.examples import default_shots, pick_shots
from intentkg.generate.prompts import TYPE_KIND, Template, clean_text
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
    shown: tuple[str, ...] = ()  # tails of the worked answers the prompt showed
    head_type: str | None = None  # type-level prompts: the product type the prompt named


def head_text(kind: str, left_text: str, right_text: str) -> str:
    """The behaviour a tail explains, as one line: 'query -> product' or 'product A + product B'."""
    left, right = " ".join(str(left_text).split()), " ".join(str(right_text).split())
    return f"{left} -> {right}" if kind == "search_buy" else f"{left} + {right}"


def behavior_types(behaviors: pa.Table, products: pa.Table | None) -> tuple[list[str], list[str]]:
    """(left type, right type) per behaviour: the catalogue's product type, else the title's."""
    from intentkg.product_types import product_type

    declared: dict[str, str | None] = {}
    if products is not None and "product_type" in products.column_names:
        declared = dict(zip(products.column("product_id").to_pylist(), products.column("product_type").to_pylist()))
    kinds = behaviors.column("kind").to_pylist()
    lefts, rights = behaviors.column("left").to_pylist(), behaviors.column("right").to_pylist()
    left_texts, right_texts = behaviors.column("left_text").to_pylist(), behaviors.column("right_text").to_pylist()
    left_types = [product_type(declared.get(left), text) if kind == "co_buy" else "" for kind, left, text
                  in zip(kinds, lefts, left_texts)]
    right_types = [product_type(declared.get(right), text) for right, text in zip(rights, right_texts)]
    return left_types, right_types


def plan_calls(behaviors: pa.Table, relations: list[Relation], template: Template, model: ModelInfo,
               config: GenerateConfig, products: pa.Table | None = None) -> list[PlannedCall]:
    """Every call, in output order. Identical prompts share one key (and one cached answer)."""
    calls = []
    columns = [behaviors.column(c).to_pylist() for c in ("behavior_id", "kind", "left_text", "right_text")]
    by_type = config.granularity == "product_type"
    types = behavior_types(behaviors, products) if by_type else None
    shots_config = config.few_shot
    for b, (behavior_id, kind, left_text, right_text) in enumerate(zip(*columns)):
        left = clean_text(left_text, config.max_text_chars)
        right = clean_text(right_text, config.max_text_chars)
        prompt_kind, head_type, key = kind, None, behavior_id
        if types is not None:
            left_type, right_type = types[0][b], types[1][b] or right
            if kind == "co_buy":
                left, right = left_type or left, right_type
                head_type = f"{left} + {right}"
            else:
                prompt_kind, left, right = TYPE_KIND, right_type, right_type
                head_type = right_type
            key = f"type:{kind}:{head_type}"
        for r, relation in enumerate(relations):
            if not shots_config.rotate:
                shots = default_shots(relation)
            else:
                shots = pick_shots(relation, key, kind, f"{left} {right}", shots_config.per_prompt,
                                   domain=shots_config.domain, groups=shots_config.groups)
            rendered = template.render(relation, prompt_kind, left, right, shots)
            params = config.sampling.params(rendered.stop)
            request_id = request_key(model, rendered.prompt, rendered.messages, params)
            request = Request(key=request_id, params=params, prompt=rendered.prompt, messages=rendered.messages,
                              prefix_splits=rendered.splits)
            calls.append(PlannedCall(order=b * len(relations) + r, behavior_id=behavior_id, kind=kind,
                                     head=head_text(kind, left_text, right_text), relation=relation.name,
                                     cue=relation.cue[kind], primer=rendered.primer, request=request,
                                     shown=rendered.shown, head_type=head_type))
    return calls


def execution_order(calls: list[PlannedCall]) -> list[PlannedCall]:
    """By relation, kind, then the examples shown: consecutive prompts share their longest prefix
    (llama.cpp keeps it in its KV cache), also when examples rotate per behaviour."""
    return sorted(calls, key=lambda c: (c.relation, c.kind, c.shown, c.order))
