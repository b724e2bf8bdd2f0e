"""``intentkg generate``: ask an LLM why customers did what they did; write candidate knowledge."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from intentkg.cli.options import ENGINE, FORCE, WORKSPACE
from intentkg.engine.settings import with_engine_name
from intentkg.errors import ConfigError
from intentkg.generate import GenerateConfig, load_config, run_generate

console = Console()


def _options(items: list[str] | None) -> dict:
    options = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--option {item!r}: write key=value, e.g. --option n_threads=4")
        key, value = item.split("=", 1)
        options[key.strip()] = yaml.safe_load(value) if value.strip() else ""
    return options


def generate(
    workspace: Path = WORKSPACE,
    force: bool = FORCE,
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML generate config (docs/generate.md)."),
    backend: Optional[str] = typer.Option(None, help="llama_cpp, transformers, openai, vllm or a plugin."),
    model: Optional[str] = typer.Option(None, help="Bundled alias (gemma3-270m, smollm2-135m-instruct), "
                                                   "local path, or Hugging Face name."),
    option: Optional[list[str]] = typer.Option(None, "--option", "-o",
                                               help="Backend option key=value, repeatable (e.g. base_url=...)."),
    template: Optional[str] = typer.Option(None, help="qa_fewshot, qa_chat, a template YAML file, or auto."),
    relations: Optional[str] = typer.Option(None, help="Comma list of relations; default: all in the schema."),
    limit: Optional[int] = typer.Option(None, help="At most N behaviours, balanced by kind and category."),
    kinds: Optional[str] = typer.Option(None, help="Comma list: co_buy, search_buy."),
    select_seed: Optional[int] = typer.Option(None, help="Seed of the balanced behaviour sample."),
    seed: Optional[int] = typer.Option(None, help="Sampling seed (part of every request-cache key)."),
    samples: Optional[int] = typer.Option(None, "--samples", "-n", help="Answers sampled per prompt."),
    max_tokens: Optional[int] = typer.Option(None, help="Token limit per answer."),
    temperature: Optional[float] = typer.Option(None, help="Sampling temperature (0: greedy)."),
    top_p: Optional[float] = typer.Option(None, help="Nucleus sampling threshold."),
    batch_size: Optional[int] = typer.Option(None, help="Calls per cache commit (default: the backend's)."),
    granularity: Optional[str] = typer.Option(
        None, help="behavior (one prompt per behaviour) or product_type (one per product type, shared)."),
    shots: Optional[int] = typer.Option(None, help="Worked answers per prompt, drawn per behaviour from the pool."),
    engine: Optional[str] = ENGINE,
) -> None:
    """Generate candidate (behaviour, relation, tail) knowledge with an LLM, through the request cache."""
    cfg = load_config(config) if config else GenerateConfig()
    if backend:
        cfg.backend.name = backend
    if model:
        cfg.backend.model = model
    cfg.backend.options.update(_options(option))
    if template:
        cfg.template = template
    if engine:
        cfg.engine = with_engine_name(cfg.engine, engine)
    if relations:
        cfg.relations = None if relations == "all" else [r.strip() for r in relations.split(",") if r.strip()]
    if kinds:
        cfg.selection.kinds = [k.strip() for k in kinds.split(",") if k.strip()]  # type: ignore[misc]
    for target, name, value in [(cfg.selection, "limit", limit), (cfg.selection, "seed", select_seed),
                                (cfg.sampling, "seed", seed), (cfg.sampling, "n", samples),
                                (cfg.sampling, "max_tokens", max_tokens), (cfg.sampling, "temperature", temperature),
                                (cfg.sampling, "top_p", top_p), (cfg, "batch_size", batch_size),
                                (cfg, "granularity", granularity), (cfg.few_shot, "per_prompt", shots)]:
        if value is not None:
            setattr(target, name, value)
    try:  # re-check the ranges of values given as flags
        cfg = GenerateConfig.model_validate(cfg.model_dump())
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"generate options: {problems}") from exc
    manifest = run_generate(cfg, workspace, force=force)
    _summary(manifest, workspace)


def _summary(manifest, workspace: Path) -> None:
    c = manifest.counts
    table = Table(title=f"generate -> {workspace / 'generate'}", show_header=False)
    table.add_row("model", ", ".join(f"{m.model_id} ({(m.sha256 or '')[:12]})" for m in manifest.models))
    table.add_row("behaviours x relations", f"{c.get('behaviors', 0):,} x {c.get('relations', 0)}")
    table.add_row("calls", f"{c.get('requests', 0):,} ({c.get('cache_hits', 0):,} cached, "
                           f"{c.get('backend_calls', 0):,} made, {c.get('failed_calls', 0):,} failed)")
    table.add_row("tokens in / out", f"{c.get('tokens_in', 0):,} / {c.get('tokens_out', 0):,}")
    if c.get("tokens_per_second"):
        table.add_row("throughput", f"{c['tokens_per_second']:,.1f} tokens/s, {c.get('calls_per_second', 0):.2f} calls/s")
    table.add_row("candidates", f"{c.get('candidates', 0):,} {c.get('parse_status', {})}")
    table.add_row("finished at", f"{manifest.finished_at} ({manifest.seconds:.1f} s)")
    console.print(table)
