"""Bad input is quarantined with file, row, column and reason (never dropped silently), or stops with
an error naming file and column."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from intentkg.errors import InputError
from intentkg.experiment.config import MetricsConfig, Ratio
from intentkg.experiment.inputs import load_units
from intentkg.ingest.quarantine import Quarantine

CSV = """unit_id,variant,sales,sales__pre,clicks,impressions,country
u1,control,10,9,1,10,de
u2,treatment,12,11,2,10,fr
u3,treatment,,10,1,5,de
u4,contrl,11,10,1,5,de
u5,control,abc,8,1,5,de
,control,10,9,1,5,de
u6,control,10,,0,4,de
u7,treatment,inf,9,1,4,de
u8,treatment,9,8,1,4,de
u8,control,9,8,1,4,de
"""


def _quarantined(q: Quarantine) -> dict[tuple[int | None, str | None], str]:
    return {(r["source_row"], r["column"]): r["reason"] for r in q.table().to_pylist()}


def test_every_bad_cell_and_unit_is_quarantined_with_its_row_and_column(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(CSV)
    q = Quarantine()
    units = load_units(path, MetricsConfig(ratios={"ctr": Ratio(numerator="clicks", denominator="impressions")}), q)
    assert _quarantined(q) == {
        (4, "sales"): "missing_value", (5, "variant"): "bad_variant", (6, "sales"): "not_a_number",
        (7, "unit_id"): "missing_unit_id", (8, "sales__pre"): "missing_pre", (9, "sales"): "not_finite",
        (10, "unit_id"): "duplicate_unit", (11, "unit_id"): "duplicate_unit"}  # CSV rows are file lines
    assert set(q.table().column("source_file").to_pylist()) == {str(path)}
    # units with a bad variant, no id or a duplicate id are out; a bad metric cell only leaves that metric
    assert units.unit_id.tolist() == ["u1", "u2", "u3", "u5", "u6", "u7"]
    assert np.isnan(units.values["sales"]).tolist() == [False, False, True, True, False, True]
    assert units.values["sales__pre"][4] == pytest.approx(np.mean([9, 11, 10, 8, 9]))  # the filled mean
    assert units.metrics == ["sales", "clicks", "impressions", "ctr"] and units.ignored_columns == ["country"]
    assert units.pre == {"sales": "sales__pre"}


def test_missing_required_column_names_file_and_column(tmp_path):
    path = tmp_path / "units.parquet"
    pq.write_table(pa.table({"unit_id": ["a"], "arm": ["control"], "sales": [1.0]}), path)
    with pytest.raises(InputError) as err:
        load_units(path, MetricsConfig(), Quarantine())
    assert str(path) in str(err.value) and "'variant'" in str(err.value)


def test_config_naming_an_absent_column_is_an_error(tmp_path):
    path = tmp_path / "units.parquet"
    pq.write_table(pa.table({"unit_id": ["a", "b"], "variant": ["control", "treatment"], "sales": [1.0, 2.0]}), path)
    with pytest.raises(InputError, match="'revenue'"):
        load_units(path, MetricsConfig(decision=["revenue"]), Quarantine())
    with pytest.raises(InputError, match="'views'"):
        load_units(path, MetricsConfig(ratios={"r": Ratio(numerator="sales", denominator="views")}), Quarantine())


def test_parquet_nulls_and_nans_are_quarantined(tmp_path):
    path = tmp_path / "units.parquet"
    pq.write_table(pa.table({"unit_id": [1, 2, 3], "variant": ["control", "treatment", None],
                             "sales": [1.0, None, float("nan")]}), path)
    q = Quarantine()
    units = load_units(path, MetricsConfig(), q)
    assert _quarantined(q) == {(2, "sales"): "missing_value", (3, "variant"): "bad_variant"}
    assert units.unit_id.tolist() == ["1", "2"]


def test_a_pre_column_without_a_mean_metric_is_listed_as_ignored(tmp_path):
    path = tmp_path / "units.parquet"
    pq.write_table(pa.table({"unit_id": ["a", "b"], "variant": ["control", "treatment"], "clicks": [1, 2],
                             "views": [3, 4], "ctr__pre": [0.1, 0.2]}), path)
    units = load_units(path, MetricsConfig(ratios={"ctr": Ratio(numerator="clicks", denominator="views")}),
                       Quarantine())
    assert units.pre == {} and units.ignored_columns == ["ctr__pre"]  # CUPED is for mean metrics only
