"""The commands' work, with or without a workspace. With ``-w``, ``analyze`` runs as stage
``experiment`` (``effects.parquet``, ``quarantine.parquet``, ``readout.json``) and ``prune`` as stage
``experiment-prune`` (``pruning.json``), both through :meth:`Workspace.run`, which records the input
files and the config; the report section reads them."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from intentkg import atomic_file
from intentkg.errors import InputError
from intentkg.experiment.analyze import Readout, analyze, select_experiment
from intentkg.experiment.config import MetricsConfig
from intentkg.experiment.exposures import exposure_arms
from intentkg.experiment.inputs import Units, load_units
from intentkg.experiment.prune import Pruning, prune
from intentkg.ingest.quarantine import Quarantine
from intentkg.workspace import Workspace

ANALYZE_STAGE, PRUNE_STAGE = "experiment", "experiment-prune"
READOUT_FILE, PRUNING_FILE = "readout.json", "pruning.json"


@dataclass
class Loaded:
    units: Units
    quarantine: Quarantine
    config: MetricsConfig


def load_for_readout(table: Path, config: MetricsConfig, *, experiment: str | None = None,
                     exposures: Path | None = None) -> Loaded:
    quarantine = Quarantine()
    arms = exposure_arms(exposures, experiment) if exposures is not None else None
    if arms is not None and config.expected_split is None:
        config = config.model_copy(update={"expected_split": arms.expected_split()})
    units = load_units(table, config, quarantine, exposures=arms)
    if arms is None:
        units = select_experiment(units, experiment)
    return Loaded(units, quarantine, config)


def run_analyze(table: Path, config: MetricsConfig, *, config_file: Path | None = None, experiment: str | None = None,
                exposures: Path | None = None, workspace: Path | None = None, quarantine_out: Path | None = None,
                force: bool = False) -> Readout:
    loaded = load_for_readout(table, config, experiment=experiment, exposures=exposures)
    readout = analyze(loaded.units, loaded.config)
    readout.quarantine = loaded.quarantine.summary()
    if quarantine_out is not None:
        _write_parquet(loaded.quarantine.table(), quarantine_out)
    if workspace is not None:
        inputs = [table, *([config_file] if config_file else []), *([exposures] if exposures else [])]
        settings = {"config": loaded.config.model_dump(mode="json"), "experiment": experiment}
        with Workspace(workspace).run(ANALYZE_STAGE, config=settings, inputs=inputs, force=True) as run:
            run.write("quarantine", loaded.quarantine.table())
            if readout.effects:  # none when the SRM check stopped the read-out
                run.write("effects", effects_table(readout))
            run.counts.update({"units": int(len(loaded.units.unit_id)), "quarantined": len(loaded.quarantine),
                               "comparisons": len(readout.effects)})
            run.extra["srm_passed"] = readout.srm.passed
            run.write_text(READOUT_FILE, to_json(readout.as_dict()))  # an output of the run, in its manifest
    return readout


def run_prune(table: Path, config: MetricsConfig, *, threshold: float, max_decision: int, prefer: list[str],
              config_file: Path | None = None, workspace: Path | None = None) -> tuple[Pruning, Quarantine]:
    quarantine = Quarantine()
    units = load_units(table, config, quarantine)
    # the config's current decision metrics win their clusters unless --prefer names another
    prefer = [*prefer, *[m for m in (config.decision or []) if m not in prefer]]
    result = prune(units, threshold=threshold, max_decision=max_decision, guardrails=config.guardrails, prefer=prefer)
    if workspace is not None:
        settings = {"config": config.model_dump(mode="json"), "threshold": threshold, "max_decision": max_decision,
                    "prefer": prefer}
        with Workspace(workspace).run(PRUNE_STAGE, config=settings, force=True,
                                      inputs=[table, *([config_file] if config_file else [])]) as run:
            run.write("quarantine", quarantine.table())
            run.counts.update({"metrics": len(result.metrics), "clusters": len(result.clusters),
                               "components_95": result.components_95, "quarantined": len(quarantine)})
            run.write_text(PRUNING_FILE, to_json(result.as_dict()))
    return result, quarantine


def tiers_yaml(result: Pruning, config: MetricsConfig) -> str:
    """A metrics YAML with the proposed tiers, ready for ``analyze --config``."""
    import yaml

    doc: dict[str, Any] = {k: v for k, v in config.model_dump(mode="json", exclude_none=True).items()
                           if k not in ("decision", "guardrails", "exploratory") and v not in ({}, [])}
    doc.update({"decision": result.tiers["decision"], "guardrails": result.tiers["guardrails"],
                "exploratory": result.tiers["exploratory"]})
    note = (f"# proposed by `intentkg experiment prune`: {len(result.clusters)} clusters at |r| >= {result.threshold}, "
            f"{result.components_95} components for 95% of variance;\n# representative rule: {result.rule}\n")
    return note + yaml.safe_dump(doc, sort_keys=False)


def effects_table(readout: Readout) -> pa.Table:
    return pa.Table.from_pylist([e.as_dict() for e in readout.effects])


def to_json(document: Any, indent: int | None = 2) -> str:
    """Strict JSON: NaN and infinities (an undefined relative effect, say) become null."""
    return json.dumps(_finite(document), indent=indent, default=_plain, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _write_parquet(table: pa.Table, path: Path) -> None:
    import pyarrow.parquet as pq

    try:
        with atomic_file.replacing(path) as tmp:
            pq.write_table(table, tmp)
    except OSError as exc:
        raise InputError(f"cannot write the quarantine table: {exc}", file=str(path),
                         hint="pass --quarantine PATH in a writable folder, or -w WORKSPACE") from exc


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)
