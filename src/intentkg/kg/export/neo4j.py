"""Neo4j bulk-import CSV (`neo4j-admin database import full --nodes=nodes.csv --relationships=relationships.csv`).

Node labels come from the node kind; relationship types from the relation; lists use ';' as the
array delimiter (the importer's default).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa

from intentkg import atomic_file
from intentkg.schemas import EDGES, NODES

NODE_HEADER = ["node_id:ID", ":LABEL", "text", "category", "parent_id", "support:long"]
EDGE_HEADER = [":START_ID", ":END_ID", ":TYPE", "edge_id", "category", "plausibility:double", "typicality:double",
               "support:long", "behavior_ids:string[]", "candidate_ids:string[]", "critic_id", "threshold:double"]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


def write(nodes: pa.Table, edges: pa.Table, out: Path) -> list[Path]:
    node_path, edge_path = out / "nodes.csv", out / "relationships.csv"
    with atomic_file.replacing(node_path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(NODE_HEADER)
        for n in nodes.to_pylist():
            writer.writerow([n["node_id"], n["kind"], n["text"], _cell(n["category"]), _cell(n["parent_id"]),
                             n["support"]])
    with atomic_file.replacing(edge_path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(EDGE_HEADER)
        for e in edges.to_pylist():
            writer.writerow([e["head"], e["tail"], e["relation"], e["edge_id"], _cell(e["category"]),
                             _cell(e["plausibility"]), _cell(e["typicality"]), e["support"],
                             _cell(e["behavior_ids"]), _cell(e["candidate_ids"]), _cell(e["critic_id"]),
                             _cell(e["threshold"])])
    return [node_path, edge_path]


def _opt(value: str, kind=str):
    return None if value == "" else kind(value)


def read(out: Path) -> tuple[pa.Table, pa.Table]:
    with open(out / "nodes.csv", encoding="utf-8", newline="") as handle:
        nodes = [{"node_id": r["node_id:ID"], "kind": r[":LABEL"], "text": r["text"], "category": _opt(r["category"]),
                  "parent_id": _opt(r["parent_id"]), "support": int(r["support:long"])}
                 for r in csv.DictReader(handle)]
    with open(out / "relationships.csv", encoding="utf-8", newline="") as handle:
        edges = [{"edge_id": r["edge_id"], "head": r[":START_ID"], "relation": r[":TYPE"], "tail": r[":END_ID"],
                  "category": _opt(r["category"]), "plausibility": _opt(r["plausibility:double"], float),
                  "typicality": _opt(r["typicality:double"], float), "support": int(r["support:long"]),
                  "behavior_ids": r["behavior_ids:string[]"].split(";") if r["behavior_ids:string[]"] else [],
                  "candidate_ids": r["candidate_ids:string[]"].split(";") if r["candidate_ids:string[]"] else [],
                  "critic_id": _opt(r["critic_id"]), "threshold": _opt(r["threshold:double"], float)}
                 for r in csv.DictReader(handle)]
    return pa.Table.from_pylist(nodes, schema=NODES), pa.Table.from_pylist(edges, schema=EDGES)
