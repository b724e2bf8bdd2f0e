"""Which engine runs a stage's per-batch work, as a stage config section or ``--engine``.

    engine: ray                       # shorthand for {name: ray}
    engine: {name: ray, address: auto, workers: 4, cpus_per_worker: 2, rows_per_block: 2048}

The engine never changes results, so it is not part of a stage's fingerprint: a run on Ray after a
local run of the same config is skipped as unchanged (docs/ray.md).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class EngineSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Literal["local", "ray"] = Field("local", description="local: this process; ray: a Ray cluster")
    address: str | None = Field(None, description="Ray cluster address; None: RAY_ADDRESS, else a new local "
                                                  "cluster (ray job submit sets RAY_ADDRESS)")
    workers: int = Field(2, ge=1, description="actors for model steps (each holds one model)")
    cpus_per_worker: float = Field(1.0, gt=0, description="CPUs a model actor reserves")
    gpus_per_worker: float = Field(0.0, ge=0, description="GPUs a model actor reserves (vLLM replicas)")
    rows_per_block: int = Field(2048, ge=1, description="rows per Ray block and per model call batch")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


def without_engine(config: dict) -> dict:
    """A dumped stage config minus its engine section (what the fingerprint sees)."""
    return {k: v for k, v in config.items() if k != "engine"}


def with_engine_name(settings: EngineSettings, name: str) -> EngineSettings:
    """``settings`` with the engine ``--engine`` named (a clear error for an unknown one)."""
    if name not in ("local", "ray"):
        from intentkg.errors import ConfigError

        raise ConfigError(f"--engine {name!r}: use local or ray (docs/ray.md)")
    return settings.model_copy(update={"name": name})
