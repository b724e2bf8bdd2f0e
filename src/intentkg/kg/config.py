"""KG build configuration: the operating point (which scored candidates become edges) and storage."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class OperatingPoint(BaseModel):
    """Thresholds applied to stored scores. A threshold on a score the filter did not compute
    (no critic configured, for example) is skipped and the manifest says so."""

    model_config = ConfigDict(extra="forbid")
    min_plausibility: float | None = Field(0.5, ge=0, le=1)
    min_typicality: float | None = Field(None, ge=0, le=1)
    min_completeness: float | None = Field(None, description="mean token log-likelihood of the tail")
    max_input_similarity: float | None = Field(None, ge=-1, le=1)
    allow_rule_flags: list[str] = Field(default_factory=list, description="rule flags that do not reject")
    per_relation: dict[str, float] = Field(
        default_factory=dict, description="relation -> min plausibility, overriding min_plausibility")


class BuildConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    operating_point: OperatingPoint = OperatingPoint()
    threshold_source: str = Field(
        "config", description="'config', or the path of a critic's critic.json to take its chosen threshold")
    hierarchy: bool = True
    hierarchy_distance: float = Field(0.45, gt=0, lt=2, description="cosine distance for clustering intentions")
    embedder: str | None = Field(None, description="sentence embedder path; default the bundled MiniLM")
    row_group_size: int = Field(16_384, ge=1_024)
