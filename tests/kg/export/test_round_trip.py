"""Every export format reads back to the same nodes and edges as the Parquet KG."""

from __future__ import annotations

import pytest

from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig
from intentkg.kg.export import FORMATS, export, load_kg

from helpers.kg_workspace import make_workspace


def _normal(table, key):
    rows = []
    for row in table.to_pylist():
        row = {k: (sorted(v) if isinstance(v, list) else round(v, 9) if isinstance(v, float) else v)
               for k, v in row.items()}
        rows.append(row)
    return sorted(rows, key=lambda r: r[key])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    ws = make_workspace(tmp_path_factory.mktemp("kg"))
    # a title with markup, quotes, commas, a semicolon-free unicode text: exports must keep it exact
    run_build(ws, BuildConfig(hierarchy=True))
    return ws


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_round_trip(built, tmp_path, fmt):
    nodes, edges = load_kg(built)
    assert nodes.num_rows > 10 and edges.num_rows > 10
    paths = export(built, fmt, tmp_path / fmt)
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
    back_nodes, back_edges = FORMATS[fmt][1](tmp_path / fmt)
    assert _normal(back_nodes, "node_id") == _normal(nodes, "node_id")
    assert _normal(back_edges, "edge_id") == _normal(edges, "edge_id")
