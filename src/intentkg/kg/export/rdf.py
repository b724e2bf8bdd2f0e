"""RDF/Turtle through rdflib.

Each node is ``ikg:node/<id>`` with rdfs:label and ikg:kind; each edge is both a direct triple
(head ``ikg:rel/<relation>`` tail, for simple SPARQL) and an ``ikg:Edge`` resource carrying its
id, scores, support and provenance (RDF reification by resource), so nothing is lost.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote

import pyarrow as pa

from intentkg import atomic_file
from intentkg.schemas import EDGES, NODES

BASE = "https://intentkg.org/kg/"


def _ns():
    from rdflib import Namespace

    return Namespace(BASE)


def _node(uri_ns, node_id: str):
    return uri_ns["node/" + quote(node_id, safe="")]


def write(nodes: pa.Table, edges: pa.Table, out: Path) -> list[Path]:
    from rdflib import RDF, RDFS, Graph, Literal
    from rdflib.namespace import XSD

    ikg = _ns()
    graph = Graph()
    graph.bind("ikg", ikg)
    for n in nodes.to_pylist():
        subject = _node(ikg, n["node_id"])
        graph.add((subject, RDF.type, ikg.Node))
        graph.add((subject, RDFS.label, Literal(n["text"])))
        graph.add((subject, ikg.kind, Literal(n["kind"])))
        graph.add((subject, ikg.support, Literal(n["support"], datatype=XSD.long)))
        if n["category"] is not None:
            graph.add((subject, ikg.category, Literal(n["category"])))
        if n["parent_id"] is not None:
            graph.add((subject, ikg.broader, _node(ikg, n["parent_id"])))
    for e in edges.to_pylist():
        head, tail = _node(ikg, e["head"]), _node(ikg, e["tail"])
        graph.add((head, ikg["rel/" + quote(e["relation"], safe="")], tail))
        edge = ikg["edge/" + e["edge_id"]]
        graph.add((edge, RDF.type, ikg.Edge))
        graph.add((edge, ikg.head, head))
        graph.add((edge, ikg.tail, tail))
        graph.add((edge, ikg.relation, Literal(e["relation"])))
        graph.add((edge, ikg.support, Literal(e["support"], datatype=XSD.long)))
        for name in ("plausibility", "typicality", "threshold"):
            if e[name] is not None:
                # xsd:decimal keeps every digit (rdflib shortens xsd:double)
                graph.add((edge, ikg[name], Literal(repr(float(e[name])), datatype=XSD.decimal)))
        for name in ("category", "critic_id"):
            if e[name] is not None:
                graph.add((edge, ikg[name], Literal(e[name])))
        for behavior in e["behavior_ids"]:
            graph.add((edge, ikg.behavior, Literal(behavior)))
        for candidate in e["candidate_ids"]:
            graph.add((edge, ikg.candidate, Literal(candidate)))
    path = out / "kg.ttl"
    with atomic_file.replacing(path) as tmp:
        graph.serialize(destination=tmp, format="turtle")
    return [path]


def _float(value):
    return None if value is None else float(value)


def read(out: Path) -> tuple[pa.Table, pa.Table]:
    from rdflib import RDF, RDFS, Graph

    ikg = _ns()
    graph = Graph()
    graph.parse(out / "kg.ttl", format="turtle")
    prefix = str(ikg["node/"])

    def node_id(uri) -> str:
        return unquote(str(uri)[len(prefix):])

    def value(subject, predicate):
        found = graph.value(subject, predicate)
        return None if found is None else found.toPython()

    nodes = []
    for subject in graph.subjects(RDF.type, ikg.Node):
        parent = graph.value(subject, ikg.broader)
        nodes.append({"node_id": node_id(subject), "kind": value(subject, ikg.kind),
                      "text": value(subject, RDFS.label), "category": value(subject, ikg.category),
                      "parent_id": node_id(parent) if parent is not None else None,
                      "support": value(subject, ikg.support)})
    edges = []
    for edge in graph.subjects(RDF.type, ikg.Edge):
        edges.append({"edge_id": str(edge).rsplit("/", 1)[-1], "head": node_id(graph.value(edge, ikg.head)),
                      "relation": value(edge, ikg.relation), "tail": node_id(graph.value(edge, ikg.tail)),
                      "category": value(edge, ikg.category), "plausibility": _float(value(edge, ikg.plausibility)),
                      "typicality": _float(value(edge, ikg.typicality)), "support": value(edge, ikg.support),
                      "behavior_ids": sorted(str(b) for b in graph.objects(edge, ikg.behavior)),
                      "candidate_ids": sorted(str(c) for c in graph.objects(edge, ikg.candidate)),
                      "critic_id": value(edge, ikg.critic_id), "threshold": _float(value(edge, ikg.threshold))})
    return pa.Table.from_pylist(nodes, schema=NODES), pa.Table.from_pylist(edges, schema=EDGES)
