"""The derived head index (kg/index/) answers exactly what a scan of the Parquet answers, and a stale
or missing index is detected: the lookup warns and scans (never a wrong answer). All of this fails on the
code before the index (there was no index to ask)."""

from __future__ import annotations

import os
import shutil
import warnings

import pyarrow.parquet as pq
import pytest

from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig
from intentkg.kg.head_edges import POINT_HEADS, HeadEdges
from intentkg.kg.index import StaleIndexWarning
from intentkg.kg.query import KnowledgeGraph
from intentkg.knowledge import KnowledgeLookup, LookupConfig
from intentkg.workspace import Workspace


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from helpers.kg_workspace import make_workspace

    ws = make_workspace(tmp_path_factory.mktemp("index"))
    run_build(ws, BuildConfig(hierarchy=True), embed=None)  # lexical hierarchy: edges have a broader intention
    return ws


def _copy(ws: Workspace, tmp_path) -> Workspace:
    shutil.copytree(ws.root, tmp_path / "ws")  # copy2 keeps modification times: the index stays fresh
    return Workspace(tmp_path / "ws")


def _all_heads(edges: HeadEdges) -> list[str]:
    return edges.heads("query") + edges.heads("product")


def test_index_answers_equal_scan_answers_on_a_built_kg(built, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", StaleIndexWarning)  # a fresh build's index is fresh
        indexed = HeadEdges(built)
    scan = HeadEdges(built, use_index=False)
    assert indexed.indexed and not scan.indexed
    heads = _all_heads(scan)
    assert indexed.heads("query") == scan.heads("query") and indexed.heads("product") == scan.heads("product")
    assert len(heads) >= 5 and any(h.startswith("query:") for h in heads)
    for head in heads:  # one head at a time (the pruned point lookup), with and without behaviour ids
        for behaviors in (False, True):
            assert indexed.of([head], behaviors).to_pylist() == scan.of([head], behaviors).to_pylist()
    padded = heads + [f"product:none{i}" for i in range(POINT_HEADS)]  # many heads: the join path
    assert indexed.of(padded, True).to_pylist() == scan.of(padded, True).to_pylist()
    rows = indexed.of(heads).to_pylist()
    assert any(r["broader"] for r in rows) and all(r["intention"] for r in rows)

    # the readers on top, ranking order included: the KG API and the knowledge lookup, index vs scan
    no_index = _copy(built, tmp_path)
    shutil.rmtree(no_index.stage_dir("kg") / "index")
    kg = KnowledgeGraph(built)
    with pytest.warns(StaleIndexWarning, match="missing"):
        kg_scan = KnowledgeGraph(no_index)
    assert kg.heads.indexed and not kg_scan.heads.indexed
    for query in ("winter camping gear", "newborn essentials", "unknown query"):
        assert kg.intentions_for_query(query) == kg_scan.intentions_for_query(query)
    ranked = kg.intentions_for_query("winter camping gear")
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True) and len(ranked) == 2
    for product in ("T1", "M1", "S1", "B1", "B2"):
        assert kg.intentions_for_product(product) == kg_scan.intentions_for_product(product)
    config = LookupConfig(nearest=False, hide_queries=["newborn essentials"])
    lookup = KnowledgeLookup(built, config)
    with pytest.warns(StaleIndexWarning):
        lookup_scan = KnowledgeLookup(no_index, config)
    queries, products = ["winter camping gear", "newborn essentials"], ["T1", "M1", "S1", "B1", "B2"]
    assert lookup.for_queries(queries) == lookup_scan.for_queries(queries)
    assert lookup.stats() == lookup_scan.stats() and lookup.stats()["hidden_behaviors"] == 1
    leave_out = LookupConfig(nearest=False, leave_out_query=True)
    with pytest.warns(StaleIndexWarning):
        leave_out_scan = KnowledgeLookup(no_index, leave_out)
    assert KnowledgeLookup(built, leave_out).for_pairs(queries * 2, products[:4]) == \
        leave_out_scan.for_pairs(queries * 2, products[:4])


def test_rows_across_record_batches_come_whole(built, tmp_path, monkeypatch):
    """An index written in 3-row record batches (so heads straddle batch boundaries) answers every
    head's columns as the scan does, in one batch or across two."""
    from intentkg import duck
    from intentkg.kg import index as index_module

    ws = _copy(built, tmp_path)
    folder = ws.stage_dir("kg")
    shutil.rmtree(folder / "index")
    monkeypatch.setattr(index_module, "BATCH_ROWS", 3)
    index_module.write_index(duck.connect(), folder / "index", folder / "edges", folder / "nodes.parquet")
    edges, scan = HeadEdges(ws), HeadEdges(ws, use_index=False)
    sizes = [b.num_rows for b in edges.index.rows.to_batches()]
    assert edges.indexed and len(sizes) > 2
    ends = {sum(sizes[: i + 1]) for i in range(len(sizes))}
    spans = [edges.index.range(h) for h in _all_heads(scan)]
    assert any(any(a < end < b for end in ends) for a, b in spans)  # some head straddles two batches
    for head in _all_heads(scan) + ["query:unknown"]:
        assert edges.columns_of(head) == scan.columns_of(head) == scan.of([head]).to_pydict()


def test_a_stale_index_is_detected_and_the_scan_answers(built, tmp_path):
    ws = _copy(built, tmp_path)
    kg_folder = ws.stage_dir("kg")
    target = kg_folder / "edges" / "relation=used_in_location" / "part-0.parquet"
    before = KnowledgeGraph(ws).intentions_for_query("winter camping gear")
    assert "snowy mountains" in {r["intention"] for r in before}
    table = pq.read_table(target)
    pq.write_table(table.filter([not h.startswith("query:") for h in table.column("head").to_pylist()]), target)
    with pytest.warns(StaleIndexWarning, match="stale"):
        kg = KnowledgeGraph(ws)
    assert not kg.heads.indexed
    after = kg.intentions_for_query("winter camping gear")
    assert "snowy mountains" not in {r["intention"] for r in after} and after  # the files' answer, not the index's


def test_an_index_from_another_build_is_stale(built, tmp_path):
    """Same files on disk, but the manifest records other edges: the index was not derived from them."""
    ws = _copy(built, tmp_path)
    manifest = ws.stage_dir("kg") / "manifest.json"
    manifest.write_text(manifest.read_text().replace(ws.manifest("kg").outputs["edges"].sha256, "0" * 64))
    with pytest.warns(StaleIndexWarning, match="sha256"):
        assert not HeadEdges(ws).indexed


def test_a_touched_file_makes_the_index_stale(built, tmp_path):
    ws = _copy(built, tmp_path)
    nodes = ws.stage_dir("kg") / "nodes.parquet"
    os.utime(nodes, ns=(nodes.stat().st_atime_ns, nodes.stat().st_mtime_ns + 10**9))
    with pytest.warns(StaleIndexWarning, match="nodes.parquet"):
        assert not HeadEdges(ws).indexed


def test_an_unreadable_or_short_index_is_stale(built, tmp_path):
    """A rows file cut short (a crash while copying, a full disk) is never mapped: the scan answers."""
    ws = _copy(built, tmp_path)
    expected = HeadEdges(ws, use_index=False).of(_all_heads(HeadEdges(built))).to_pylist()
    rows = ws.stage_dir("kg") / "index" / "rows.arrow"
    stat = rows.stat()
    data = rows.read_bytes()
    rows.write_bytes(data[: len(data) // 2])
    with pytest.warns(StaleIndexWarning, match="cannot be read"):
        edges = HeadEdges(ws)
    assert not edges.indexed and edges.of(_all_heads(HeadEdges(built))).to_pylist() == expected
    meta = ws.stage_dir("kg") / "index" / "meta.json"
    rows.write_bytes(data)
    os.utime(rows, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    meta.write_text(meta.read_text().replace('"rows": ', '"rows": 1'))  # another row count than the file holds
    with pytest.warns(StaleIndexWarning, match="rows"):
        assert not HeadEdges(ws).indexed


def test_heads_sharing_a_key_are_told_apart(monkeypatch):
    """Two heads with the same 64-bit key (a collision) each get their own rows, never the other's."""
    import numpy as np
    import pyarrow as pa

    from intentkg.kg import index as index_module

    key = 12345
    monkeypatch.setattr(index_module, "head_key", lambda head: key)  # every head collides
    Index = index_module.Index
    index = Index(rows=pa.table({"head": ["query:a", "query:b", "query:b"]}),
                  keys=np.array([key, key], dtype=np.uint64), heads=pa.array(["query:a", "query:b"]),
                  starts=np.array([0, 1]), stops=np.array([1, 3]))
    assert index.range("query:b") == (1, 3) and index.range("query:a") == (0, 1)
    assert index.range("query:c") is None
