"""Arms from the serving exposure log: mixed arms quarantined, a changed share refused."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from intentkg.errors import InputError
from intentkg.experiment.config import MetricsConfig
from intentkg.experiment.exposures import exposure_arms
from intentkg.experiment.inputs import load_units
from intentkg.ingest.quarantine import Quarantine
from intentkg.serve.exposure_log import ExposureLog


def _log(folder, rows, share=0.5, experiment="e1"):
    log = ExposureLog(folder)
    for unit, arm in rows:
        log.add(experiment_id=experiment, unit_id=unit, arm=arm, bucket=0, knowledge_share=share, endpoint="query",
                key="q:x", outcome="hit")
    log.flush()


def test_mixed_arms_and_unexposed_units_are_quarantined(tmp_path):
    folder = tmp_path / "exposures"
    _log(folder, [("a", "control"), ("b", "treatment"), ("c", "control"), ("c", "treatment"), ("d", "control")])
    metrics = tmp_path / "m.parquet"
    pq.write_table(pa.table({"unit_id": ["a", "b", "c", "z"], "sales": [1.0, 2.0, 3.0, 4.0]}), metrics)
    q = Quarantine()
    units = load_units(metrics, MetricsConfig(), q, exposures=exposure_arms(folder))
    assert units.unit_id.tolist() == ["a", "b"] and units.variant.tolist() == ["control", "treatment"]
    got = {(r["raw"], r["reason"]) for r in q.table().to_pylist()}
    assert got == {("c", "mixed_arms"), ("z", "not_exposed"), ("d", "no_metrics")}


def test_a_share_changed_mid_experiment_or_an_unknown_id_is_an_error(tmp_path):
    folder = tmp_path / "exposures"
    _log(folder, [("a", "control")], share=0.1)
    _log(folder, [("b", "treatment")], share=0.2)
    with pytest.raises(InputError, match="changed while it ran"):
        exposure_arms(folder)
    with pytest.raises(InputError, match="'e9' is not in the exposure log"):
        exposure_arms(folder, "e9")
