"""Knowledge generated now, on a scratch workspace: a template variant, generate + filter, kept tails.

On-demand query knowledge and catalogue product knowledge both run the real generate and filter
stages on a scratch workspace (:func:`generate_and_filter`), through a copy of the workspace's
template whose search behaviour names only one side (:func:`variant_template`); :func:`kept_tails`
turns what survived into one scored fact per (head, relation, canonical intention): score = ``plausibility * (1 + ln samples agreeing)`` (mean
plausibility of the agreeing samples; duplicates folded into a kept row count as agreeing), text =
the first of the agreeing tails in sort order, id = the KG's intention node id for it. With several
samples per prompt (``sampling.n``), ``min_agreement`` keeps only the tails that at least that many
of a head's samples agree on (issue 12, item 4: agreement as support).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, NamedTuple

import yaml

from intentkg import atomic_file
from intentkg.kg.canonical import canonical, node_id
from intentkg.kg.ranking import edge_score
from intentkg.workspace import Workspace


class KeptTail(NamedTuple):
    relation: str
    text: str
    intention_id: str
    score: float


def kept_tails(scratch: Workspace, thresholds, head_of: dict[str, str],
               min_agreement: int = 1) -> tuple[dict[str, list[KeptTail]], dict]:
    """``head_of``: behaviour id -> head key. Returns (kept tails per head key, counts); a tail fewer than
    ``min_agreement`` kept samples of its head agree on is dropped (counted in ``below_agreement``)."""
    from intentkg.filter.view import verdicts

    candidates = scratch.read("generate", "candidates").select(["candidate_id", "behavior_id", "relation", "tail"])
    scores = scratch.read("filter", "scores")
    relation_of = dict(zip(candidates.column("candidate_id").to_pylist(), candidates.column("relation").to_pylist()))
    view = verdicts(scores, thresholds, [relation_of.get(c) for c in scores.column("candidate_id").to_pylist()])
    kept = {c for c, k in zip(view.column("candidate_id").to_pylist(), view.column("kept").to_pylist()) if k}
    score_of = {r["candidate_id"]: r for r in scores.select(["candidate_id", "plausibility", "dup_count"]).to_pylist()}
    grouped: dict[tuple[str, str, str], list[tuple[float | None, int, str]]] = defaultdict(list)
    for row in candidates.to_pylist():
        if row["candidate_id"] not in kept or not row["tail"] or row["behavior_id"] not in head_of:
            continue
        key = canonical(row["tail"])
        if key:
            s = score_of.get(row["candidate_id"], {})
            grouped[(head_of[row["behavior_id"]], row["relation"], key)].append(
                (s.get("plausibility"), 1 + int(s.get("dup_count") or 0), row["tail"]))
    out: dict[str, list[KeptTail]] = defaultdict(list)
    below = 0
    for (head, relation, key), found in sorted(grouped.items()):
        if sum(n for _, n, _ in found) < min_agreement:
            below += 1
            continue
        plaus = [p for p, _, _ in found if p is not None]
        score = edge_score(sum(plaus) / len(plaus) if plaus else None, sum(n for _, n, _ in found))
        out[head].append(KeptTail(relation, sorted(t for _, _, t in found)[0], node_id("intention", key), score))
    return dict(out), {"candidates": candidates.num_rows, "kept": len(kept), "below_agreement": below}


def variant_template(name: str, folder: Path, search_buy: str, suffix: str) -> Path:
    """A copy of template ``name`` (packaged or a path) whose search behaviour reads ``search_buy``."""
    from intentkg.generate.prompts import template_path

    spec = yaml.safe_load(Path(template_path(name)).read_text(encoding="utf-8"))
    spec["behavior"]["search_buy"] = search_buy
    spec["name"] = f"{spec['name']}_{suffix}"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{spec['name']}.yaml"
    text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
    if not out.exists() or out.read_text(encoding="utf-8") != text:
        atomic_file.write_text(out, text)
    return out


def generate_and_filter(scratch: Workspace, generate, filter_config, template: Callable[[str, Path], Path],
                        ingest: Callable[[], None], backend: Any = None):
    """``ingest()`` the scratch behaviours, generate through ``template(name, folder)`` (a variant of
    the configured template), filter; returns the generate manifest. ``backend``: reuse a loaded model."""
    from intentkg.filter.stage import run_filter
    from intentkg.generate.stage import run_generate

    own = backend is None
    if own:
        from intentkg.llm import registry

        backend = registry.create(generate.backend.name, model=generate.backend.model, **generate.backend.options)
    try:
        name = generate.template
        if name == "auto":
            name = "qa_chat" if backend.info().chat else "qa_fewshot"
        generate = generate.model_copy(update={"template": str(template(name, scratch.root))})
        ingest()
        manifest = run_generate(generate, scratch, backend=backend)
    finally:
        if own:
            backend.close()
    run_filter(scratch, filter_config, quiet=True)
    return manifest
