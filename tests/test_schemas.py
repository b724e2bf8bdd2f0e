import pyarrow as pa
import pytest

from intentkg.schemas import TABLES, conform


def test_every_link_points_at_a_known_table_and_column():
    for spec in TABLES.values():
        for column, (table, key) in spec.links.items():
            assert column in spec.schema.names
            assert key in TABLES[table].schema.names


def test_conform_fills_optional_and_rejects_missing_required():
    table = pa.table({"product_id": ["P1"], "title": ["Tent"], "source": ["s"], "source_file": ["f"],
                      "source_row": [1]})
    out = conform(table, "products")
    assert out.schema == TABLES["products"].schema and out.column("brand").null_count == 1
    with pytest.raises(ValueError, match="title"):
        conform(table.drop_columns(["title"]), "products")
