"""Agreement between samples: a tail one sample of three names is unconfirmed."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from intentkg.filter.agreement import find_unconfirmed
from intentkg.filter.config import AgreementConfig


def test_a_tail_most_samples_name_is_confirmed_and_a_lone_one_is_not(tmp_path):
    rows = [  # prompt k1: three samples; "walk the dog" in all, "a birthday party" in one
        (0, "walk the dog", "k1", 0), (1, "a birthday party", "k1", 0), (2, "walk the dog", "k1", 1),
        (3, "dog park", "k1", 1), (4, "walk the dog", "k1", 2), (5, "dog park", "k1", 2),
        (6, "lonely", "k2", 0)]  # prompt k2: one sample, never checked
    path = tmp_path / "rows.parquet"
    pq.write_table(pa.table({name: [r[i] for r in rows] for i, name in enumerate(("row", "key", "request_key",
                                                                                   "sample"))}), path)
    found = find_unconfirmed(duckdb.connect(), path, AgreementConfig(enabled=True))
    assert find_unconfirmed(duckdb.connect(), path, AgreementConfig()).num_rows == 0  # off by default
    assert found.column("row").to_pylist() == [1]
    assert found.column("detail")[0].as_py() == "named by 1 of the 3 samples of its prompt"
    strict = find_unconfirmed(duckdb.connect(), path, AgreementConfig(enabled=True, min_share=0.9))
    assert strict.column("row").to_pylist() == [1, 3, 5]
    assert find_unconfirmed(duckdb.connect(), path, AgreementConfig(enabled=False)).num_rows == 0
