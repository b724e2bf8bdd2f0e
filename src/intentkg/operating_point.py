"""The operating point: which stored filter scores keep a candidate, decided once per workspace.

Scores never change when thresholds do. One :class:`OperatingPoint` is stored with the workspace
(``filter/operating_point.json``, written by ``intentkg filter`` and ``intentkg view --save``) and
read by every consumer:

- ``intentkg view`` / ``intentkg report``: the funnel at this point (:mod:`intentkg.filter.view`);
- ``intentkg build``: exactly the candidates the view keeps become edges (duplicates merge into
  their kept representative); the KG manifest records the point (``extra.operating_point``);
- on-demand knowledge (:mod:`intentkg.knowledge.on_demand`) and ``intentkg serve refresh``: the
  point the KG was built at, so knowledge added later passes the same gates.

    point = decide(ws, critic_metadata="ws/critic/intentkg_critic.json", min_typicality=0.3)
    save(ws, point)

Completeness has two scales (see docs/filter.md, "Completeness"): the generator's own log-probs
(``completeness_source = 'generation'``) and the scoring model's (any other source). Each has its
own threshold: ``min_completeness`` for the scoring model, ``min_generation_completeness`` for the
generator's numbers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from intentkg.errors import IntentkgError
from intentkg.workspace import Workspace

FILE = "operating_point.json"
FILTER_STAGE = "filter"
KG_STAGE = "kg"
CRITIC_META = "intentkg_critic.json"
GENERATION = "generation"  # completeness_source of the generator's own log-probs


class OperatingPoint(BaseModel):
    """Thresholds over stored scores. Null = that test is off; a null score (the step did not run
    for that row) passes."""

    model_config = ConfigDict(extra="forbid")
    min_completeness: float | None = Field(
        -7.0, description="completeness scored by the scoring model (llama.cpp) below this -> low_completeness")
    min_generation_completeness: float | None = Field(
        None, description="completeness taken from the generator's own log-probs below this -> low_completeness "
                          "(another model's scale: off until set from its distribution)")
    max_input_similarity: float | None = Field(0.8, ge=-1, le=1, description="cosine to the title/query above "
                                                                             "this -> input_paraphrase")
    min_plausibility: float | None = Field(0.5, ge=0, le=1)
    min_typicality: float | None = Field(None, ge=0, le=1)
    per_relation: dict[str, float] = Field(
        default_factory=dict, description="relation -> min plausibility, overriding min_plausibility")
    ignore_flags: list[str] = Field(default_factory=list, description="rule flags that do not reject")
    drop_duplicates: bool = Field(True, description="a duplicate merges into its representative (no edge of "
                                                    "its own); false: every duplicate is a candidate in its own right")
    critic_metadata: str | None = Field(None, description="the critic metadata file the critic thresholds came from")

    def plausibility_for(self, relation: str | None) -> float | None:
        if relation is not None and relation in self.per_relation:
            return float(self.per_relation[relation])
        return self.min_plausibility

    def with_critic(self, metadata: str | Path, typicality: bool = False) -> "OperatingPoint":
        """This point with the plausibility threshold a trained critic chose (and its typicality
        threshold with ``typicality``: COSMO gates on plausibility only; on the demo the critic's
        typicality threshold on top kept 4 of 283 candidates instead of 57)."""
        path, chosen = critic_thresholds(metadata)
        if not typicality:
            chosen.pop("min_typicality", None)
        return self.model_copy(update={**chosen, "critic_metadata": str(path)})


def critic_thresholds(metadata: str | Path) -> tuple[Path, dict[str, float]]:
    """(metadata file, {min_plausibility, min_typicality} it records) from a critic folder or its JSON."""
    path = Path(metadata)
    if path.is_dir():
        path = path / CRITIC_META
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IntentkgError(f"{path}: cannot read the critic's metadata: {exc}") from exc
    chosen: dict[str, float] = {}
    thresholds = data.get("thresholds") if isinstance(data, dict) else None
    for task in ("plausibility", "typicality"):
        value = thresholds.get(task) if isinstance(thresholds, dict) else None
        if isinstance(value, dict):
            value = value.get("threshold")
        if isinstance(value, (int, float)):
            chosen[f"min_{task}"] = float(value)
    if "min_plausibility" not in chosen:
        raise IntentkgError(f"{path}: no plausibility threshold found (expected thresholds.plausibility, "
                            f"as `intentkg train-critic` writes)")
    return path, chosen


def saved(ws: Workspace) -> OperatingPoint:
    """The workspace's operating point: the filter stage's saved file, else its manifest's, else the defaults."""
    path = ws.output_path(FILTER_STAGE, FILE) if ws.manifest(FILTER_STAGE) is not None else None
    try:
        if path is not None and path.exists():
            return OperatingPoint.model_validate_json(path.read_text(encoding="utf-8"))
        manifest = ws.manifest(FILTER_STAGE)
        if manifest is not None and "operating_point" in manifest.extra:
            return OperatingPoint.model_validate(manifest.extra["operating_point"])
    except ValueError as exc:
        raise IntentkgError(f"{path}: not a valid operating point ({exc}); fix it or write a new one with "
                            f"`intentkg view -w {ws.root} ... --save`") from exc
    return OperatingPoint()


def save(ws: Workspace, point: OperatingPoint) -> None:
    """Make ``point`` the workspace's: an output of the filter stage, replaced without re-scoring through
    the stage's atomic commit (``Workspace.amend``)."""
    value = point.model_dump(mode="json")
    ws.amend(FILTER_STAGE, {FILE: json.dumps(value, indent=2)}, extra={"operating_point": value})


def built(ws: Workspace) -> OperatingPoint | None:
    """The point the workspace's KG was built at (its manifest), or None without a KG."""
    manifest = ws.manifest(KG_STAGE)
    if manifest is None or "operating_point" not in manifest.extra:
        return None
    recorded = {k: v for k, v in manifest.extra["operating_point"].items() if k in OperatingPoint.model_fields}
    return OperatingPoint.model_validate(recorded)


def current(ws: Workspace) -> OperatingPoint:
    """The point knowledge added to this workspace's KG must pass: the KG's when built, else the saved one."""
    return built(ws) or saved(ws)


def decide(ws: Workspace | None = None, base: OperatingPoint | None = None, critic_metadata: str | Path | None = None,
           **overrides: Any) -> OperatingPoint:
    """``base`` (default: the workspace's saved point), then the critic's thresholds, then ``overrides``
    (keys of :class:`OperatingPoint`; ``None`` values are ignored, use :func:`off` to switch a test off)."""
    point = base if base is not None else (saved(ws) if ws is not None else OperatingPoint())
    if critic_metadata is not None:
        point = point.with_critic(critic_metadata)
    update = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(update) - set(OperatingPoint.model_fields)
    if unknown:
        raise IntentkgError(f"unknown operating-point settings: {', '.join(sorted(unknown))}")
    return OperatingPoint.model_validate({**point.model_dump(), **update})


OFF_NAMES = {"completeness": ("min_completeness", "min_generation_completeness"),
             "similarity": ("max_input_similarity",), "plausibility": ("min_plausibility",),
             "typicality": ("min_typicality",)}


def off(point: OperatingPoint, names: list[str]) -> OperatingPoint:
    """``point`` with the named tests switched off (completeness, similarity, plausibility, typicality,
    duplicates)."""
    update: dict[str, Any] = {}
    for name in names:
        if name == "duplicates":
            update["drop_duplicates"] = False
        elif name in OFF_NAMES:
            update.update({field: None for field in OFF_NAMES[name]})
        else:
            raise IntentkgError(f"--off {name!r}: use one of {', '.join([*OFF_NAMES, 'duplicates'])}")
    return point.model_copy(update=update)
