"""The relation schema: the 15 COSMO relations from ``prompts/relations.yaml`` plus user additions.

A relation says what its tails name, which question to ask about a behaviour, how the answer
opens (its cue) and a pool of worked answers per behaviour kind for few-shot prompts (each prompt
shows a few of them, chosen per behaviour by :mod:`intentkg.generate.examples`). Users add relations
in the generate config (``extra_relations``) or point ``relations_file`` at their own YAML file.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from intentkg.errors import ConfigError
from intentkg.schemas import BEHAVIOR_KINDS
from intentkg.workspace.fingerprint import hash_json


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid")
    left: str
    right: str
    tails: list[str] = Field(min_length=1)


class RelationSpec(BaseModel):
    """One relation as written in YAML or in a config's ``extra_relations``."""

    model_config = ConfigDict(extra="forbid")
    description: str = ""
    question: dict[str, str]
    cue: dict[str, str]
    examples: dict[str, Example | list[Example]] = Field(
        default_factory=dict, description="per behaviour kind: one worked answer or a pool of them")


@dataclass(frozen=True)
class Relation:
    name: str
    description: str
    question: dict[str, str]
    cue: dict[str, str]
    examples: dict[str, list[Example]]  # kind -> pool of worked answers (the first is the default shot)

    def pool(self) -> list[tuple[str, Example]]:
        """Every worked answer of the relation as (kind, example), kinds in schema order."""
        return [(kind, ex) for kind, pool in self.examples.items() for ex in pool]


@dataclass(frozen=True)
class Schema:
    version: str
    relations: dict[str, Relation]
    source: str

    @property
    def fingerprint(self) -> str:
        return hash_json({"version": self.version, "relations": {
            n: {"d": r.description, "q": r.question, "c": r.cue,
                "e": {k: [e.model_dump() for e in pool] for k, pool in r.examples.items()}}
            for n, r in self.relations.items()}})

    def example_tails(self) -> list[str]:
        """Every worked answer's tails, of every relation: what a copying model would repeat."""
        return list(dict.fromkeys(t for r in self.relations.values() for _, ex in r.pool() for t in ex.tails))

    def select(self, names: list[str] | None) -> list[Relation]:
        if not names:
            return list(self.relations.values())
        unknown = [n for n in names if n not in self.relations]
        if unknown:
            raise ConfigError(f"unknown relation(s) {', '.join(map(repr, unknown))} (schema {self.source}); "
                              f"known: {', '.join(self.relations)}; add new ones under extra_relations")
        return [self.relations[n] for n in dict.fromkeys(names)]


def default_relations_path() -> Path:
    return Path(str(files("intentkg").joinpath("prompts", "relations.yaml")))


def _build(name: str, spec: RelationSpec, where: str) -> Relation:
    for field_name in ("question", "cue"):
        missing = [k for k in BEHAVIOR_KINDS if not getattr(spec, field_name).get(k, "").strip()]
        if missing:
            raise ConfigError(f"{where}: relation {name!r}: {field_name} needs a text for {', '.join(missing)}")
    pools = {k: list(v) if isinstance(v, list) else [v] for k, v in spec.examples.items()}
    empty = [k for k, pool in pools.items() if not pool]
    if empty:
        raise ConfigError(f"{where}: relation {name!r}: examples for {', '.join(empty)} is an empty list; "
                          f"give at least one worked answer or leave the kind out")
    return Relation(name, spec.description, dict(spec.question), dict(spec.cue), pools)


def _parse(name: str, data: Any, where: str) -> Relation:
    try:
        return _build(name, RelationSpec.model_validate(data), where)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{where}: relation {name!r}: {problems}") from exc


def load_schema(path: str | Path | None = None, extra: dict[str, Any] | None = None) -> Schema:
    """Relations from ``path`` (default: the packaged 15) with ``extra`` added or overriding."""
    path = Path(path) if path else default_relations_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the relation schema: {exc}") from exc
    if not isinstance(data.get("relations"), dict):
        raise ConfigError(f"{path}: expected a top-level 'relations:' mapping of name -> relation")
    relations = {name: _parse(name, spec, str(path)) for name, spec in data["relations"].items()}
    version = str(data.get("version", "0"))
    for name, spec in (extra or {}).items():
        relations[name] = _parse(name, spec, "config extra_relations")
    if extra:
        version += "+extra"
    return Schema(version=version, relations=relations, source=str(path))


def prompt_fields(relation: Relation | None, name: str, kind: str) -> dict[str, str]:
    """How a prompt names a relation for a behaviour kind: its text, description, question and cue;
    ``relation`` None (a relation the schema no longer has): a neutral wording of ``name``."""
    from intentkg.text import relation_text

    if relation is None:
        text = relation_text(name)
        return {"relation": text, "description": text, "question": f"What is it {text}?", "cue": f"It is {text}"}
    return {"relation": relation_text(relation.name), "description": relation.description,
            "question": relation.question[kind], "cue": relation.cue[kind]}


def workspace_relations(ws) -> dict[str, Relation]:
    """The relations of the schema a workspace's generate stage ran with (the packaged one when it has
    none or its file is gone): what its prompts and the questions about its candidates name."""
    cfg = ws.stage_config("generate")
    try:
        return load_schema(cfg.get("relations_file"), cfg.get("extra_relations") or None).relations
    except ConfigError:
        return load_schema().relations
