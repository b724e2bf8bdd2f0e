"""GraphML export through networkx: a directed multigraph, lists stored as JSON text."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from intentkg import atomic_file
from intentkg.schemas import EDGES, NODES

LIST_COLUMNS = ("behavior_ids", "candidate_ids")


def _clean(row: dict) -> dict:
    return {k: (json.dumps(v) if k in LIST_COLUMNS else v) for k, v in row.items() if v is not None}


def write(nodes: pa.Table, edges: pa.Table, out: Path) -> list[Path]:
    import networkx as nx

    graph = nx.MultiDiGraph()
    for row in nodes.to_pylist():
        graph.add_node(row["node_id"], **_clean({k: v for k, v in row.items() if k != "node_id"}))
    for row in edges.to_pylist():
        graph.add_edge(row["head"], row["tail"], key=row["edge_id"],
                       **_clean({k: v for k, v in row.items() if k not in ("head", "tail")}))
    path = out / "kg.graphml"
    with atomic_file.replacing(path) as tmp:
        nx.write_graphml(graph, tmp)
    return [path]


def read(out: Path) -> tuple[pa.Table, pa.Table]:
    import networkx as nx

    graph = nx.read_graphml(out / "kg.graphml", force_multigraph=True)
    node_rows = []
    for node, data in graph.nodes(data=True):
        row = {f.name: data.get(f.name) for f in NODES}
        row["node_id"] = node
        node_rows.append(row)
    edge_rows = []
    for head, tail, data in graph.edges(data=True):
        row = {f.name: data.get(f.name) for f in EDGES}
        row.update(head=head, tail=tail)
        for name in LIST_COLUMNS:
            row[name] = json.loads(row[name]) if row[name] is not None else []
        edge_rows.append(row)
    return pa.Table.from_pylist(node_rows, schema=NODES), pa.Table.from_pylist(edge_rows, schema=EDGES)
