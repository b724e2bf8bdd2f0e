"""The same whole answer for unrelated products: the model ignored the behaviour."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from intentkg.filter.config import RepeatedAnswersConfig
from intentkg.filter.repeated_answers import find_repeated_answers

COPY = "a birthday party 2 decorating a cake"


def _write(tmp_path, rows):
    names = ("row", "relation", "key", "request_key", "answer_key", "grp", "supported")
    table = pa.table({name: [r[i] for r in rows] for i, name in enumerate(names)})
    path = tmp_path / "rows.parquet"
    pq.write_table(table, path)
    return path


def test_an_answer_given_to_unrelated_prompts_ignores_them(tmp_path):
    rows = [(i, "used_for_event", "birthday party", f"k{i}", COPY, grp, grp == "candle")
            for i, grp in enumerate(["collar", "knife", "slipper", "candle"])]
    rows += [(10 + i, "used_for_event", "camping", f"t{i}", "camping 2 hiking", "tent", False) for i in range(5)]
    rows += [(20 + i, "used_for_event", "birthday party", "shared", COPY, grp, False)  # one type-level prompt
             for i, grp in enumerate(["mug", "lamp", "belt"])]
    found = find_repeated_answers(duckdb.connect(), _write(tmp_path, rows), RepeatedAnswersConfig())
    flagged = found.column("row").to_pylist()
    assert flagged == [0, 1, 2, 20, 21, 22]  # the candle fits; the tents are all one type
    assert found.column("detail")[0].as_py().startswith("the same answer was given to 5 prompts about 5 product types")
    assert find_repeated_answers(duckdb.connect(), _write(tmp_path, rows),
                                 RepeatedAnswersConfig(enabled=False)).num_rows == 0
    strict = find_repeated_answers(duckdb.connect(), _write(tmp_path, rows), RepeatedAnswersConfig(min_prompts=6))
    assert strict.num_rows == 0
