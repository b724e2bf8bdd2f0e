"""Training and held-out prompts: behaviours x relations, rendered by the generate stage's own planner.

The policy is asked exactly what ``intentkg generate`` asks it (:func:`intentkg.generate.plan.plan_calls`:
the same template, the same worked answers per behaviour, the same cue), so a refined model is
refined for the prompts it will serve. Behaviours are split by :func:`intentkg.refine.split.is_heldout`
on their head text: held-in ones become the training prompts, held-out ones are only generated for
by the guard.

With ``queries=True`` (config ``prompts: queries``) the behaviours are one query-only behaviour per
distinct search query of the workspace (:func:`intentkg.knowledge.on_demand.query_behaviors`) and the
template is on-demand's query-only variant: the prompts ``eval esci --on-demand`` and serving's
on-demand tier send, so the policy is refined for the knowledge that path uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from intentkg.errors import IntentkgError
from intentkg.generate.config import GenerateConfig, SelectionSettings
from intentkg.generate.plan import head_text, plan_calls
from intentkg.generate.prompts import load_template
from intentkg.generate.relations import load_schema
from intentkg.generate.select import select_behaviors
from intentkg.llm.protocol import ModelInfo
from intentkg.refine.reward import Behaviour
from intentkg.refine.split import is_heldout


@dataclass
class PromptSet:
    rows: list[dict]  # {"prompt": messages or text, "prompt_id": ...}: the trainer's dataset
    behaviours: dict[str, Behaviour]  # prompt_id -> what it asked about

    def __len__(self) -> int:
        return len(self.rows)


def generate_settings(ws) -> dict:
    """The config the workspace's generate stage ran with (its relations, few-shot and text limits)."""
    return ws.stage_config("generate") or {}


def query_only(behaviors: pa.Table, where) -> pa.Table:
    """The distinct search queries of ``behaviors`` as on-demand's query-only behaviours (keys, sorted)."""
    from intentkg.knowledge.on_demand import query_behaviors
    from intentkg.query_key import query_key

    queries = sorted({query_key(q) for q, k in zip(behaviors.column("left_text").to_pylist(),
                                                   behaviors.column("kind").to_pylist()) if k == "search_buy"} - {""})
    if not queries:
        raise IntentkgError(f"workspace {where}: prompts: queries needs search_buy behaviours; its "
                            f"{behaviors.num_rows} behaviours have no search query")
    return query_behaviors(queries)


def build_prompts(ws, model: ModelInfo, template_name: str, relations: list[str] | None, limit: int,
                  heldout_share: float, heldout: bool, seed: int = 0, queries: bool = False) -> PromptSet:
    behaviors = ws.read("ingest", "behaviors")
    if queries:
        behaviors = query_only(behaviors, ws.root)
    heads = [head_text(k, a, b) for k, a, b in zip(behaviors.column("kind").to_pylist(),
                                                      behaviors.column("left_text").to_pylist(),
                                                      behaviors.column("right_text").to_pylist())]
    keep = [is_heldout(h, heldout_share, seed) == heldout for h in heads]
    chosen = behaviors.filter(pa.array(keep))
    if chosen.num_rows == 0:
        which = "held-out" if heldout else "held-in"
        raise IntentkgError(f"workspace {ws.root}: no {which} behaviours (of {behaviors.num_rows}); "
                            f"change guard.heldout_share ({heldout_share})")
    generated = generate_settings(ws)
    settings = {k: generated[k] for k in ("relations_file", "extra_relations", "few_shot", "max_text_chars")
                if generated.get(k) is not None}
    config = GenerateConfig.model_validate({**settings, "selection": SelectionSettings(limit=limit, seed=seed)
                                            .model_dump()})
    names = relations or generated.get("relations") or (generated.get("resolved") or {}).get("relations")
    schema = load_schema(config.relations_file, config.extra_relations or None)
    selected_relations = schema.select(names or ["used_for_function"])
    name = template_name if template_name != "auto" else ("qa_chat" if model.chat else "qa_fewshot")
    if queries:
        from intentkg.knowledge.on_demand import query_only_template

        name = str(query_only_template(name, ws.root / ".cache" / "refine"))
    template = load_template(name)
    calls = plan_calls(select_behaviors(chosen, config.selection), selected_relations, template, model, config)
    text = {b: (lt, rt) for b, lt, rt in zip(chosen.column("behavior_id").to_pylist(),
                                              chosen.column("left_text").to_pylist(),
                                              chosen.column("right_text").to_pylist())}
    rows, behaviours = [], {}
    for call in calls:
        prompt_id = call.request.key
        left, right = text[call.behavior_id]
        behaviours[prompt_id] = Behaviour(prompt_id, call.behavior_id, call.kind, call.head, call.relation,
                                          left, right, call.cue, call.primer, tuple(call.shown))
        prompt = list(call.request.messages) if call.request.messages is not None else call.request.prompt
        rows.append({"prompt": prompt, "prompt_id": prompt_id})
    return PromptSet(rows, behaviours)
