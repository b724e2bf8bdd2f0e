"""The exposure log: complete part files only, rows kept across a failed write."""

from __future__ import annotations

import pytest

from intentkg.serve.exposure_log import ExposureLog, read_exposures


def _add(log: ExposureLog, unit: str) -> None:
    log.add(experiment_id="e", unit_id=unit, arm="control", bucket=1, knowledge_share=0.5, endpoint="query",
            key="q:x", outcome="hit")


def test_parts_are_complete_and_a_failed_write_loses_nothing(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the log folder should be")
    log = ExposureLog(blocked / "exposures")
    _add(log, "u1")
    with pytest.raises(OSError):  # cannot create the folder: the rows stay buffered
        log.flush()
    log.folder = tmp_path / "exposures"
    _add(log, "u2")
    (log.folder).mkdir()
    (log.folder / ".part-x.parquet.tmp").write_bytes(b"half a file")  # a crashed writer's leftover
    assert log.flush() is not None and log.flush() is None  # nothing buffered the second time
    assert read_exposures(log.folder).column("unit_id").to_pylist() == ["u1", "u2"]


def test_a_full_buffer_flushes_at_once(tmp_path):
    log = ExposureLog(tmp_path / "exposures", max_rows=3)
    for i in range(7):
        _add(log, f"u{i}")
    assert len(list((tmp_path / "exposures").glob("part-*.parquet"))) == 2
    log.flush()
    assert read_exposures(tmp_path / "exposures").num_rows == 7
