"""KG build configuration: the operating point (which scored candidates become edges), storage, and
the resources the build may use (memory cap, spill folder, threads: they change how, not what, so
they are not part of the stage's fingerprint)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from intentkg import duck
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
    memory_limit: str | None = Field(
        None, description=f"DuckDB memory cap (4GB, 512MB, 25%); default {duck.DEFAULT_MEMORY_SHARE:.0%} of RAM")
    spill_dir: Path | None = Field(None, description="where DuckDB spills past the cap; default <ws>/kg/.spill")
    threads: int | None = Field(None, ge=1, description="DuckDB threads; default every core")

    @field_validator("memory_limit")
    @classmethod
    def _valid_memory(cls, value: str | None) -> str | None:
        duck.memory_bytes(value)  # a clear error now rather than mid-build
        return value

    def fingerprinted(self) -> dict[str, Any]:
        """What decides the KG's content (the stage fingerprint): everything but the resources."""
        return self.model_dump(mode="json", exclude=set(RESOURCES))

    def limits(self, spill_dir: Path) -> duck.Limits:
        # the build sets every order it relies on with ORDER BY or ordered aggregates
        return duck.Limits(memory_limit=self.memory_limit, spill_dir=spill_dir, threads=self.threads,
                           preserve_insertion_order=False)


RESOURCES = ("memory_limit", "spill_dir", "threads")
