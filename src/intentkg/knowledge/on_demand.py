"""Knowledge for queries the KG has never seen: generated and filtered on demand, in batches.

    facts = generate_for_queries("ws", ["gifts for a new dad"])   # -> [[Fact, ...]], one list per query

The batch path the serving cache's second tier and the ESCI evaluation share. It runs the real
stages on a scratch workspace, ``<ws>/.cache/on_demand``:

1. ``ingest``: one search_buy behaviour per query, with no product (a new query has no purchase
   yet, and in an evaluation its purchases are the labels);
2. ``generate`` with the workspace's generator configuration (its ``generate`` manifest, or the
   defaults), through a copy of its prompt template whose search behaviour reads
   ``A customer searched for "<query>" and bought a product for it.``; answers go through the
   request cache under ``<ws>/.cache/on_demand/.cache/llm``, so a query asked twice costs once;
3. ``filter`` with the workspace's filter configuration (rules, completeness, similarity, dedup,
   critic) at the operating point its KG was built at (else its saved one,
   :mod:`intentkg.operating_point`);
4. kept tails become :class:`~intentkg.knowledge.facts.Fact` rows (source ``query_on_demand``),
   canonicalised like KG intentions so they match product facts; score =
   ``plausibility * (1 + ln samples agreeing)``.

``config`` (optional) is a YAML file with ``generate:`` and/or ``filter:`` sections in the two
stages' config formats; a ``backend`` object may be passed to reuse a loaded model. ``model``
replaces the generator's model as ``intentkg generate --model`` does (``serve refresh --model``,
``eval esci --on-demand-model``): e.g. the distilled student ``<ws>/distill/student.gguf``; a
``.gguf`` file runs through llama.cpp. ``stats`` records the generator with its lineage
(:func:`intentkg.kg.generators.stage_generators`).
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import Any, Sequence

import pyarrow as pa
import yaml

from intentkg.errors import ConfigError
from intentkg.kg.generators import stage_generators
from intentkg.knowledge.facts import Fact, best_first
from intentkg.knowledge.scratch import generate_and_filter, kept_tails, variant_template
from intentkg.query_key import query_key
from intentkg.schemas import conform
from intentkg.workspace import Workspace

QUERY_ONLY_BEHAVIOR = 'A customer searched for "{left}" and bought a product for it.'
SCRATCH = Path(".cache") / "on_demand"
SOURCE = "query_on_demand"


def behavior_id(query: str) -> str:
    return hashlib.md5(f"search_buy\x1f{query}\x1f".encode()).hexdigest()[:16]


def _section(config: Path | str | None, name: str) -> dict[str, Any] | None:
    if config is None:
        return None
    try:
        data = yaml.safe_load(Path(config).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{config}: cannot read the on-demand config: {exc}") from exc
    if not isinstance(data, dict) or not set(data) <= {"generate", "filter"}:
        raise ConfigError(f"{config}: the on-demand config has two optional sections, generate: and filter:")
    return data.get(name)


def _generate_config(ws: Workspace, config: Path | str | None, model: str | None = None):
    from intentkg.generate.config import GenerateConfig, SelectionSettings

    data = _section(config, "generate")
    if data is None:
        data = {k: v for k, v in ws.stage_config("generate").items() if k in GenerateConfig.model_fields}
    try:
        generate = GenerateConfig.model_validate(data)
    except Exception as exc:
        raise ConfigError(f"on-demand generation: invalid generate config: {exc}") from exc
    if model:
        generate = generate.model_copy(update={"backend": with_model(generate.backend, model)})
    return generate.model_copy(update={"selection": SelectionSettings()})


def with_model(backend, model: str):
    """The backend settings with ``model`` as the generator (a local ``.gguf`` file through llama.cpp,
    the other backend's options dropped); a path is recorded absolute, as it is found from any folder."""
    path = Path(model).expanduser()
    if path.exists():
        model = str(path.resolve())
    if path.suffix == ".gguf" and backend.name != "llama_cpp":
        dropped = f" (its options {sorted(backend.options)} are dropped)" if backend.options else ""
        warnings.warn(f"{model} is a GGUF file: it runs through llama.cpp, not the configured "
                      f"{backend.name} backend{dropped}", UserWarning, stacklevel=2)
        return backend.model_copy(update={"name": "llama_cpp", "model": model, "options": {}})
    return backend.model_copy(update={"model": model})


def _filter_config(ws: Workspace, config: Path | str | None):
    """The workspace's filter configuration (or the config file's ``filter:``) at the operating point the
    KG was built at (:func:`intentkg.operating_point.current`): on-demand knowledge passes the same gates."""
    from intentkg import operating_point
    from intentkg.filter.config import FilterConfig

    data = _section(config, "filter")
    if data is None:
        # workspace paths (the critic) anchored where the workspace is now: a moved copy uses its own
        data = {k: v for k, v in ws.stage_config("filter").items() if k in FilterConfig.model_fields}
        data["thresholds"] = operating_point.current(ws).model_dump(mode="json")
    try:
        return FilterConfig.model_validate(data)
    except Exception as exc:
        raise ConfigError(f"on-demand generation: invalid filter config: {exc}") from exc


def query_only_template(name: str, folder: Path) -> Path:
    """A copy of template ``name`` (packaged or a path) whose search behaviour names no product."""
    return variant_template(name, folder, QUERY_ONLY_BEHAVIOR, "query_only")


def query_behaviors(queries: Sequence[str]) -> pa.Table:
    """One search_buy behaviour per query key, with no product: what on-demand generation prompts for
    (``refine`` with ``prompts: queries`` trains on the same rows)."""
    rows = [{"behavior_id": behavior_id(q), "kind": "search_buy", "left": q, "right": "", "left_text": q,
             "right_text": "", "support": 1, "pii_redactions": 0, "source": "on_demand",
             "source_file": "on_demand", "source_row": i + 1} for i, q in enumerate(queries)]
    return conform(pa.Table.from_pylist(rows), "behaviors")


def _ingest(scratch: Workspace, queries: list[str]) -> None:
    with scratch.run("ingest", config={"on_demand_queries": queries}) as run:
        if not run.skipped:
            run.write("behaviors", query_behaviors(queries))
            run.ensure("products")


def with_on_demand(facts: list[Fact], generated: list[Fact]) -> list[Fact]:
    """A query's KG facts with its on-demand facts: generated facts replace facts borrowed from
    nearest queries; without generated facts the KG facts stay (evaluation and serving alike)."""
    if not generated:
        return facts
    return best_first([f for f in facts if f.source != "query_nearest"] + generated)


def generate_for_queries(workspace: Any, queries: Sequence[str], config: Path | str | None = None,
                         stats: dict | None = None, backend: Any = None, per_query: int = 20,
                         engine: Any = None, model: str | None = None) -> list[list[Fact]]:
    """Facts for each query (same order), generated and filtered now; ``[]`` where nothing survived.
    ``engine`` (an :class:`~intentkg.engine.EngineSettings`): where the generate and filter steps run;
    ``model``: the generator's model instead of the configured one (a path or a bundled alias)."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    keys = [query_key(q) for q in queries]
    unique = sorted(set(k for k in keys if k))
    if not unique:
        return [[] for _ in queries]
    scratch = Workspace(ws.root / SCRATCH)
    generate = _generate_config(ws, config, model)
    filter_config = _filter_config(ws, config)
    if engine is not None:
        generate = generate.model_copy(update={"engine": engine})
        filter_config = filter_config.model_copy(update={"engine": engine})
    generate_and_filter(scratch, generate, filter_config, query_only_template, lambda: _ingest(scratch, unique),
                        backend)
    by_query, counts = kept_tails(scratch, filter_config.thresholds, {behavior_id(q): q for q in unique})
    facts = {q: [Fact(t.relation, t.text, t.score, SOURCE, t.intention_id) for t in tails]
             for q, tails in by_query.items()}
    if stats is not None:
        stats.update({"queries": len(unique), **counts,
                      "queries_with_facts": sum(1 for q in unique if facts.get(q)),
                      "generator": f"{generate.backend.name}:{generate.backend.model}",
                      "generators": stage_generators(scratch)})
    return [best_first(facts.get(k, []), per_query) for k in keys]
