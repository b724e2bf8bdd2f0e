"""Docs change with behaviour: every column of every table contract is described in docs/tables.md."""

from intentkg.schemas import TABLES
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_column_is_documented():
    text = (REPO / "docs" / "tables.md").read_text()
    missing = [f"{name}.{f}" for name, spec in TABLES.items() for f in spec.schema.names if f"`{f}`" not in text]
    assert missing == []
