"""Ingest: behaviour logs and catalogues -> products and behaviors tables, with quarantine and sampling."""

from intentkg.ingest.config import IngestConfig, SamplingConfig, load_config
from intentkg.ingest.stage import run_ingest

__all__ = ["IngestConfig", "SamplingConfig", "load_config", "run_ingest"]
