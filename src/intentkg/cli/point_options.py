"""The command-line options that set an operating point, shared by `filter`, `view`, `build` and `report`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from intentkg import operating_point
from intentkg.errors import ConfigError, IntentkgError
from intentkg.operating_point import OperatingPoint

MIN_COMPLETENESS = typer.Option(
    None, help="Keep tails whose completeness from the scoring model is at least this (log-prob per token).")
MIN_GEN_COMPLETENESS = typer.Option(
    None, help="Keep tails whose completeness from the generator's own log-probs is at least this.")
MAX_SIMILARITY = typer.Option(None, help="Drop tails whose cosine to the title/query is above this.")
MIN_PLAUSIBILITY = typer.Option(None, help="Keep tails whose critic plausibility is at least this.")
MIN_TYPICALITY = typer.Option(None, help="Keep tails whose critic typicality is at least this.")
RELATION_THRESHOLD = typer.Option(
    None, help="relation=threshold, overriding the global plausibility threshold; repeatable.")
CRITIC_METADATA = typer.Option(
    None, help="Take the plausibility threshold a trained critic chose for its target precision (its folder or "
               "intentkg_critic.json); --min-typicality gates on typicality too.")
IGNORE_FLAG = typer.Option(None, "--ignore-flag", help="A rule flag that does not reject (repeatable).")
OFF = typer.Option(None, "--off", help="Turn a threshold off: completeness, similarity, plausibility, "
                                       "typicality, duplicates (repeatable).")


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


def thresholds_from(base: OperatingPoint, min_completeness: Optional[float], max_input_similarity: Optional[float],
                    min_plausibility: Optional[float], min_typicality: Optional[float],
                    ignore_flags: Optional[list[str]], off: Optional[list[str]],
                    min_generation_completeness: Optional[float] = None, critic_metadata: Optional[Path] = None,
                    relation_threshold: Optional[list[str]] = None) -> OperatingPoint:
    """An operating point: ``base``, the critic's thresholds, then the options given on the command line."""
    try:
        point = operating_point.decide(
            base=base, critic_metadata=critic_metadata, min_completeness=min_completeness,
            min_generation_completeness=min_generation_completeness, max_input_similarity=max_input_similarity,
            min_plausibility=min_plausibility, min_typicality=min_typicality,
            per_relation=per_relation_from(relation_threshold),
            ignore_flags=[*base.ignore_flags, *ignore_flags] if ignore_flags else None)
        return operating_point.off(point, off or [])
    except IntentkgError as exc:
        raise ConfigError(str(exc)) from None
