"""Prompt templates: editable YAML files that turn (behaviour, relation) into a prompt.

Two ship in ``intentkg/prompts/``: ``qa_fewshot`` (plain text for base models, ends with the primer
"1." that the model continues) and ``qa_chat`` (messages for instruct models). A template is named
by its packaged name or by a path to a YAML file of the same shape. Its ``version`` plus a hash of
its text is stored with every candidate (``template_version``).
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from intentkg.errors import ConfigError
from intentkg.generate.examples import default_shots
from intentkg.generate.relations import Example, Relation
from intentkg.schemas import BEHAVIOR_KINDS

FIELDS = {"behavior", "question", "cue", "answer", "examples", "primer", "left", "right", "relation", "description"}
PACKAGED = ("qa_fewshot", "qa_chat")
TYPE_KIND = "product_type"  # render() kind for a type-level prompt (see GenerateConfig.granularity)
Shots = list[tuple[str, Example]]  # (behaviour kind, worked answer) pairs a prompt shows


class TemplateSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    version: str
    style: Literal["completion", "chat"]
    primer: str = ""
    stop: list[str] = []
    few_shot: bool = True
    behavior: dict[str, str]
    example: str = ""  # completion: one worked answer
    prompt: str = ""  # completion: the whole prompt
    system: str = ""  # chat
    user: str = ""  # chat
    assistant: str = ""  # chat: the worked answer turns
    type_behavior: str = 'A customer bought "{right}".'  # type-level prompts: {right} is the product type


@dataclass(frozen=True)
class Rendered:
    prompt: str | None
    messages: tuple[dict[str, str], ...] | None
    primer: str
    stop: tuple[str, ...]
    splits: tuple[int, ...] = ()  # prompt offsets where the parts shared with other behaviours end
    shown: tuple[str, ...] = ()  # the worked answers' tails the prompt showed (a copy of one is no knowledge)


@dataclass(frozen=True)
class Template:
    spec: TemplateSpec
    path: str
    sha256: str
    _checked: bool = field(default=False, compare=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def version(self) -> str:
        return f"{self.spec.version}-{self.sha256[:8]}"

    @property
    def style(self) -> str:
        return self.spec.style

    def render(self, relation: Relation, kind: str, left: str, right: str,
               shots: Shots | None = None) -> Rendered:
        """The prompt for one behaviour; ``shots`` are the worked answers it shows (default: the
        first of each kind, see :func:`intentkg.generate.examples.pick_shots`)."""
        spec = self.spec
        shots = default_shots(relation) if shots is None else shots
        shots = shots if spec.few_shot else []
        shown = tuple(t for _, ex in shots for t in ex.tails)
        values = _values(spec, relation, kind, left, right)
        values["answer"] = ""
        if spec.style == "completion":
            prompt = self._prompt(relation, values, shots)
            return Rendered(prompt, None, spec.primer, tuple(spec.stop), self._splits(relation, kind, prompt, shots),
                            shown)
        messages = []
        if spec.system.strip():
            messages.append({"role": "system", "content": _fmt(spec.system, values, self.path, "system")})
        for k, ex in shots:
            shot = _values(spec, relation, k, ex.left, ex.right, ex.tails)
            messages.append({"role": "user", "content": _fmt(spec.user, shot, self.path, "user")})
            messages.append({"role": "assistant", "content": _fmt(spec.assistant, shot, self.path, "assistant")})
        messages.append({"role": "user", "content": _fmt(spec.user, values, self.path, "user")})
        return Rendered(None, tuple(messages), spec.primer, tuple(spec.stop), (), shown)

    def _prompt(self, relation: Relation, values: dict[str, Any], shots: Shots) -> str:
        spec = self.spec
        examples = [_fmt(spec.example, _values(spec, relation, k, ex.left, ex.right, ex.tails), self.path, "example")
                    for k, ex in shots]
        return _fmt(spec.prompt, {**values, "examples": "\n\n".join(examples)}, self.path, "prompt")

    def _splits(self, relation: Relation, kind: str, prompt: str, shots: Shots) -> tuple[int, ...]:
        """Where the parts shared by every behaviour (of any kind, then of this kind) end.

        Found by rendering the same relation with a placeholder behaviour: the common prefix with
        the other kind's rendering is shared by all behaviours, the one with this kind's by all of
        this kind. Each is moved back to a word or line boundary so the cut does not split a token.
        """
        cuts = set()
        for other_kind in (k for k in BEHAVIOR_KINDS if k != kind):
            cuts.add(_boundary(prompt, _common(prompt, self._placeholder(relation, other_kind, shots))))
        cuts.add(_boundary(prompt, _common(prompt, self._placeholder(relation, kind, shots))))
        return tuple(sorted(c for c in cuts if 0 < c < len(prompt)))

    def _placeholder(self, relation: Relation, kind: str, shots: Shots) -> str:
        values = _values(self.spec, relation, kind, "\x00", "\x00")
        values["answer"] = ""
        return self._prompt(relation, values, shots)


def _common(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _boundary(text: str, limit: int) -> int:
    """The last offset <= limit just after a newline or just before a space (0 if none)."""
    for i in range(min(limit, len(text) - 1), 0, -1):
        if text[i] == " " or text[i - 1] == "\n":
            return i
    return 0


def clean_text(text: str | None, max_chars: int = 150) -> str:
    """Behaviour text as it goes into a prompt: one line, no double quotes, at most ``max_chars``."""
    text = " ".join(str(text or "").split()).replace('"', "'")
    if len(text) > max_chars:
        text = text[: max_chars - 3].rstrip() + "..."
    return text


def _values(spec: TemplateSpec, relation: Relation, kind: str, left: str, right: str,
            tails: list[str] | None = None) -> dict[str, Any]:
    if kind == TYPE_KIND:  # one product type stands for every product of the type; asked as a purchase
        behavior = _fmt(spec.type_behavior, {"left": left, "right": right}, spec.name, "type_behavior")
        kind = "search_buy"
    else:
        behavior = _fmt(spec.behavior[kind], {"left": left, "right": right}, spec.name, f"behavior.{kind}")
    return {
        "behavior": behavior, "question": relation.question[kind], "cue": relation.cue[kind],
        "answer": "\n".join(f"{i}. {t}" for i, t in enumerate(tails or [], 1)), "examples": "",
        "primer": spec.primer, "left": left, "right": right, "relation": relation.name,
        "description": relation.description,
    }


def _fmt(text: str, values: dict[str, Any], where: str, part: str) -> str:
    try:
        return text.format_map(values)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise ConfigError(f"template {where}, {part}: cannot fill {{{exc}}}: use only the fields "
                          f"{', '.join(sorted(FIELDS))}, and write literal braces as {{{{ }}}}") from exc


def _check_fields(spec: TemplateSpec, path: str) -> None:
    parts = {p: getattr(spec, p) for p in ("example", "prompt", "system", "user", "assistant", "type_behavior")}
    parts.update({f"behavior.{k}": v for k, v in spec.behavior.items()})
    for part, text in parts.items():
        try:
            names = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
        except ValueError as exc:
            raise ConfigError(f"template {path}, {part}: {exc}; write literal braces as {{{{ }}}}") from exc
        bad = sorted(n for n in names if n not in FIELDS)
        if bad:
            raise ConfigError(f"template {path}, {part}: unknown field(s) {', '.join(bad)}; "
                              f"use only {', '.join(sorted(FIELDS))}")


def template_path(name: str) -> Path:
    if name in PACKAGED:
        return Path(str(files("intentkg").joinpath("prompts", f"{name}.yaml")))
    path = Path(name).expanduser()
    if not path.is_file():
        raise ConfigError(f"template {name!r}: not a packaged template ({', '.join(PACKAGED)}) and no such file")
    return path


def load_template(name: str) -> Template:
    path = template_path(name)
    raw = path.read_bytes()
    try:
        spec = TemplateSpec.model_validate(yaml.safe_load(raw.decode("utf-8")) or {})
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"template {path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"template {path}: {problems}") from exc
    missing = [k for k in BEHAVIOR_KINDS if k not in spec.behavior]
    if missing:
        raise ConfigError(f"template {path}: behavior needs a text for {', '.join(missing)}")
    needed = ("prompt",) if spec.style == "completion" else ("user",)
    for part in needed:
        if not getattr(spec, part).strip():
            raise ConfigError(f"template {path}: style {spec.style} needs a non-empty {part!r}")
    _check_fields(spec, str(path))
    return Template(spec=spec, path=str(path), sha256=hashlib.sha256(raw).hexdigest())
