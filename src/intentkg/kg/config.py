"""KG build configuration: the operating point (which scored candidates become edges) and storage."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from intentkg.operating_point import OperatingPoint

__all__ = ["BuildConfig", "OperatingPoint"]


class BuildConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    operating_point: OperatingPoint | None = Field(
        None, description="None: the workspace's operating point (intentkg.operating_point.saved)")
    hierarchy: bool = True
    hierarchy_distance: float = Field(0.45, gt=0, lt=2, description="cosine distance for clustering intentions")
    embedder: str | None = Field(None, description="sentence embedder path; default the bundled MiniLM")
    row_group_size: int = Field(16_384, ge=1_024)
