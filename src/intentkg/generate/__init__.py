"""The generate stage: candidate knowledge from behaviours, through any LLM backend."""

from intentkg.generate.config import GenerateConfig, load_config
from intentkg.generate.stage import run_generate

__all__ = ["GenerateConfig", "load_config", "run_generate"]
