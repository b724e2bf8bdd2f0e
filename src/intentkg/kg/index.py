"""The head index: a derived copy of the intention edges of query and product nodes, for point lookups.

The Parquet files (``kg/edges/``, ``kg/nodes.parquet``) stay the source of truth. ``intentkg build``
derives ``kg/index.duckdb`` from the files it has just written: table ``intentions`` (the rows of
:func:`facts_sql`: an edge with its intention's text and broader intention) sorted by a 64-bit key
of the head (:data:`KEY_SQL`), so DuckDB's row-group min/max statistics find a head's rows without
reading the others (measured: an ART index on ``head`` is not used by DuckDB 2.0's planner for
these lookups, and VARCHAR statistics keep only an 8-byte prefix), and table ``meta``: the sha256 of the edges and nodes it was derived from (as the
build manifest records them) and each file's size and modification time.

:func:`open_index` hands out the index only while it still matches the KG: the manifest's hashes
equal the recorded ones and every file has the recorded size and time. Otherwise it warns
(:class:`StaleIndexWarning`) and returns None, and readers scan the Parquet (slower, never wrong).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import duckdb

from intentkg import duck
from intentkg.kg.build_edges import STRUCTURAL
from intentkg.workspace.fingerprint import sha256_path
from intentkg.workspace.manifest import Manifest

INDEX_FILE = "index.duckdb"
FORMAT = 2
ROW_GROUP_ROWS = 8_192  # a lookup reads one row group: smaller ones read less (DuckDB's default is 122,880)
# DuckDB keeps only an 8-byte prefix of a VARCHAR's min/max ("product:" for every product head), so
# the table is sorted by a 64-bit key of the head instead, whose min/max prune exactly
KEY_SQL = "('0x' || substr(md5(head), 1, 16))::UBIGINT"


def head_key(head: str) -> int:
    """The Python form of KEY_SQL."""
    return int(hashlib.md5(head.encode("utf-8")).hexdigest()[:16], 16)

FACT_COLUMNS = ("head", "relation", "tail", "intention", "broader", "plausibility", "typicality", "support")
NOT_STRUCTURAL = "relation NOT IN (" + ", ".join(f"'{r}'" for r in STRUCTURAL) + ")"
HEAD_KINDS = "(head LIKE 'query:%' OR head LIKE 'product:%')"


class StaleIndexWarning(UserWarning):
    """The head index is missing or no longer matches the KG files: lookups scan the Parquet."""


def facts_sql(edges: str, nodes: str, where: str = "TRUE") -> str:
    """The intention edges of query and product heads (``where`` filters the edges first), with the
    intention's text and its broader intention's text: the index's rows, and the scan's answer."""
    return f"""
        WITH e AS MATERIALIZED (SELECT head, relation, tail, plausibility, typicality, support, behavior_ids
                                FROM {edges} WHERE {NOT_STRUCTURAL} AND {HEAD_KINDS} AND ({where})),
             n AS MATERIALIZED (SELECT node_id, text, parent_id FROM {nodes} WHERE node_id IN (SELECT tail FROM e)),
             p AS MATERIALIZED (SELECT node_id, text FROM {nodes} WHERE node_id IN (SELECT parent_id FROM n))
        SELECT e.head, e.relation, e.tail, n.text AS intention, p.text AS broader, e.plausibility, e.typicality,
               e.support, e.behavior_ids
        FROM e JOIN n ON n.node_id = e.tail LEFT JOIN p ON p.node_id = n.parent_id"""


def edge_files(edges_folder: Path) -> list[Path]:
    return sorted(edges_folder.glob("relation=*/*.parquet"))


def parquet_source(files: list[Path]) -> str:
    listed = ", ".join(duck.quote_path(f) for f in files)
    return f"read_parquet([{listed}], hive_partitioning = true)"


def _signature(kg_folder: Path, files: list[Path]) -> list[list[Any]]:
    out = []
    for f in files:
        stat = f.stat()
        out.append([f.relative_to(kg_folder).as_posix(), stat.st_size, stat.st_mtime_ns])
    return out


def write_index(con: duckdb.DuckDBPyConnection, path: Path, edges_folder: Path, nodes_path: Path) -> dict[str, Any]:
    """Derive the index at ``path`` from the edge and node files just written (same folder layout as
    the committed KG); returns what the build manifest records about it."""
    kg_folder = nodes_path.parent
    files = edge_files(edges_folder)
    meta = {"format": FORMAT, "edges_sha256": sha256_path(edges_folder), "nodes_sha256": sha256_path(nodes_path),
            "files": _signature(kg_folder, [*files, nodes_path])}
    duck.run(con, f"ATTACH {duck.quote_path(path)} AS head_index (ROW_GROUP_SIZE {ROW_GROUP_ROWS})")
    # the table must be stored in head order (the build runs with preserve_insertion_order off, which
    # lets CREATE TABLE AS store an ORDER BY result in any order: then every lookup reads every row)
    order = duck.run(con, "SELECT current_setting('preserve_insertion_order')")[0][0]
    duck.run(con, "SET preserve_insertion_order = true")
    try:
        nodes = f"read_parquet({duck.quote_path(nodes_path)})"
        duck.run(con, f"""CREATE TABLE head_index.intentions AS
                          SELECT {KEY_SQL} AS head_key, * FROM ({facts_sql(parquet_source(files), nodes)})
                          ORDER BY head_key, head, relation, tail""")
        duck.run(con, "CREATE TABLE head_index.meta (meta VARCHAR)")
        duck.run(con, "INSERT INTO head_index.meta VALUES (?)", [json.dumps(meta)])
        rows = duck.run(con, "SELECT count(*) FROM head_index.intentions")[0][0]
        duck.run(con, "CHECKPOINT head_index")
    finally:
        duck.run(con, "DETACH head_index")
        duck.run(con, f"SET preserve_insertion_order = {'true' if order else 'false'}")
    return {"file": INDEX_FILE, "rows": int(rows), "format": FORMAT,
            "edges_sha256": meta["edges_sha256"], "nodes_sha256": meta["nodes_sha256"]}


def _why_stale(kg_folder: Path, manifest: Manifest | None, meta: dict[str, Any]) -> str | None:
    if meta.get("format") != FORMAT:
        return f"it has format {meta.get('format')}, this intentkg reads {FORMAT}"
    outputs = manifest.outputs if manifest else {}
    for name, key in (("edges", "edges_sha256"), ("nodes", "nodes_sha256")):
        recorded = outputs[name].sha256 if name in outputs else None
        if recorded != meta.get(key):
            return f"it was derived from {name} with sha256 {meta.get(key)}, the manifest records {recorded}"
    files = edge_files(kg_folder / "edges") + [kg_folder / "nodes.parquet"]
    now = _signature(kg_folder, [f for f in files if f.exists()])
    if now != meta.get("files"):
        changed = sorted({r[0] for r in now} ^ {r[0] for r in meta.get("files", [])}
                         | {a[0] for a, b in zip(now, meta.get("files", [])) if a != b})
        return f"these KG files changed since it was built: {', '.join(changed[:5])}"
    return None


def open_index(kg_folder: Path, manifest: Manifest | None) -> duckdb.DuckDBPyConnection | None:
    """A read-only connection to the index when it matches the KG files; else None with a warning."""
    path = kg_folder / INDEX_FILE
    rebuild = f"lookups scan the Parquet files instead (slower); run `intentkg build -w {kg_folder.parent} --force`"
    if not path.exists():
        warnings.warn(f"{path} is missing: {rebuild}", StaleIndexWarning, stacklevel=3)
        return None
    try:
        # one thread: a point lookup reads one row group, and handing it to a pool costs more than it saves
        con = duckdb.connect(str(path), read_only=True, config={"threads": 1})
        meta = json.loads(con.execute("SELECT meta FROM meta").fetchall()[0][0])
    except (duckdb.Error, IndexError, ValueError) as exc:
        warnings.warn(f"{path} cannot be read ({exc}): {rebuild}", StaleIndexWarning, stacklevel=3)
        return None
    why = _why_stale(kg_folder, manifest, meta)
    if why is not None:
        con.close()
        warnings.warn(f"{path} is stale ({why}): {rebuild}", StaleIndexWarning, stacklevel=3)
        return None
    return con
