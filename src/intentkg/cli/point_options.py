"""The command-line options that set an operating point, declared once and given to `filter`,
`view`, `build` and `report` by :func:`with_point_options` (typer wants a command's options in its
signature; the decorator writes them there)."""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import typer

from intentkg import operating_point
from intentkg.errors import ConfigError, IntentkgError
from intentkg.operating_point import OperatingPoint

# name -> (type, option): the one declaration of the operating-point options, in help order
OPTIONS: dict[str, tuple[Any, Any]] = {
    "critic_metadata": (Optional[Path], typer.Option(
        None, help="Take the plausibility threshold a trained critic chose for its target precision (its folder or "
                   "intentkg_critic.json); --min-typicality gates on typicality too.")),
    "min_completeness": (Optional[float], typer.Option(
        None, help="Keep tails whose completeness from the scoring model is at least this (log-prob per token).")),
    "min_generation_completeness": (Optional[float], typer.Option(
        None, help="Keep tails whose completeness from the generator's own log-probs is at least this.")),
    "max_input_similarity": (Optional[float], typer.Option(
        None, help="Drop tails whose cosine to the title/query is above this.")),
    "min_plausibility": (Optional[float], typer.Option(
        None, help="Keep tails whose critic plausibility is at least this.")),
    "min_typicality": (Optional[float], typer.Option(None, help="Keep tails whose critic typicality is at least this.")),
    "relation_threshold": (Optional[list[str]], typer.Option(
        None, help="relation=threshold, overriding the global plausibility threshold; repeatable.")),
    "ignore_flag": (Optional[list[str]], typer.Option(
        None, "--ignore-flag", help="A rule flag that does not reject (repeatable).")),
    "off": (Optional[list[str]], typer.Option(
        None, "--off", help="Turn a threshold off: completeness, similarity, plausibility, typicality, duplicates "
                            "(repeatable).")),
}


@dataclass(frozen=True)
class PointOptions:
    """The operating-point options as given on the command line (None: not given)."""

    critic_metadata: Optional[Path] = None
    min_completeness: Optional[float] = None
    min_generation_completeness: Optional[float] = None
    max_input_similarity: Optional[float] = None
    min_plausibility: Optional[float] = None
    min_typicality: Optional[float] = None
    relation_threshold: Optional[list[str]] = None
    ignore_flag: Optional[list[str]] = None
    off: Optional[list[str]] = None

    def on(self, base: OperatingPoint) -> OperatingPoint:
        """``base``, then the critic's thresholds, then the options given."""
        try:
            point = operating_point.decide(
                base=base, critic_metadata=self.critic_metadata, min_completeness=self.min_completeness,
                min_generation_completeness=self.min_generation_completeness,
                max_input_similarity=self.max_input_similarity, min_plausibility=self.min_plausibility,
                min_typicality=self.min_typicality, per_relation=per_relation_from(self.relation_threshold),
                ignore_flags=[*base.ignore_flags, *self.ignore_flag] if self.ignore_flag else None)
            return operating_point.off(point, self.off or [])
        except IntentkgError as exc:
            raise ConfigError(str(exc)) from None


def with_point_options(command: Callable) -> Callable:
    """Give a typer command every operating-point option, handed to it as one ``options: PointOptions``
    argument (the command declares ``options`` last and none of the options itself)."""
    signature = inspect.signature(command, eval_str=True)
    own = [p for name, p in signature.parameters.items() if name != "options"]
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind)
             for name, (kind, option) in OPTIONS.items()]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(name, None) for name in OPTIONS}
        given = {k: (None if isinstance(v, typer.models.OptionInfo) else v) for k, v in given.items()}
        return command(*args, options=PointOptions(**given), **kwargs)

    wrapper.__signature__ = signature.replace(parameters=own + added)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in own + added}
    return wrapper


def per_relation_from(items: Optional[list[str]]) -> dict[str, float] | None:
    if not items:
        return None
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"--relation-threshold {item!r}: write relation=0.7") from None
    return out
