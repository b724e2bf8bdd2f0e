"""The local engine (today's path: one worker in this process, batches in source order) and the
engine settings every stage config shares."""

from __future__ import annotations

import pyarrow as pa
import pytest

from intentkg.engine import EngineSettings, open_engine
from intentkg.engine.settings import with_engine_name
from intentkg.engine.source import Source
from intentkg.errors import ConfigError
from intentkg.filter import FilterConfig
from intentkg.generate import GenerateConfig


class Doubler:
    built = 0

    def __init__(self, factor: int):
        Doubler.built += 1
        self.factor = factor

    def __call__(self, batch: pa.Table) -> pa.Table:
        return pa.table({"row": batch.column("row"), "x": [v * self.factor for v in batch.column("x").to_pylist()]})


def test_the_local_engine_builds_its_worker_once_and_keeps_the_source_order(tmp_path):
    Doubler.built = 0
    table = pa.table({"row": list(range(10)), "x": list(range(10, 20))})
    out = list(open_engine("local").map_batches(Source(table=table), Doubler, (2,), key="row", rows=3,
                                                scratch=tmp_path, name="t"))
    assert [t.num_rows for t in out] == [3, 3, 3, 1] and Doubler.built == 1
    assert pa.concat_tables(out).column("x").to_pylist() == [2 * v for v in range(10, 20)]


def test_blocks_are_numbered_for_their_parts():
    blocks = Source(table=pa.table({"x": list(range(5))})).blocks(2)
    assert [b.column("__block").to_pylist() for b in blocks] == [[0, 0], [1, 1], [2]]


def test_engine_shorthand_and_a_clear_error_for_an_unknown_engine():
    assert EngineSettings.model_validate("ray").name == "ray"
    assert GenerateConfig.model_validate({"engine": "ray"}).engine.name == "ray"
    with pytest.raises(ConfigError, match="--engine 'spark': use local or ray"):
        with_engine_name(EngineSettings(), "spark")


def test_the_engine_is_not_part_of_the_filter_fingerprint():
    assert FilterConfig(engine="ray").fingerprint_config() == FilterConfig().fingerprint_config()
