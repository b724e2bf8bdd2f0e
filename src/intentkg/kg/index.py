"""The head index: a derived copy of the intention edges of query and product nodes, for point lookups.

The Parquet files (``kg/edges/``, ``kg/nodes.parquet``) stay the source of truth. ``intentkg build``
derives the folder ``kg/index/`` from the files it has just written:

- ``rows.arrow``: the rows of :func:`facts_sql` (an edge with its intention's text and broader
  intention), sorted by a 64-bit key of the head (:func:`head_key`), then head, relation, tail, in an
  uncompressed Arrow IPC file that readers memory-map (nothing is copied or parsed at open);
- ``heads.arrow``: the sorted key -> row-range map, one row per head (``head_key``, ``head``,
  ``start``, ``stop``);
- ``meta.json``: the format, the row count, the sha256 of the edges and nodes it was derived from (as
  the build manifest records them) and each file's size and modification time.

A point lookup is a binary search in the key column and a slice of the mapped rows: no SQL is parsed
or planned per lookup (measured on DuckDB: planning a one-row-group query costs more than reading it).

:func:`open_index` hands out the index only while it still matches the KG: the manifest's hashes
equal the recorded ones and every file has the recorded size and time. Otherwise it warns
(:class:`StaleIndexWarning`) and returns None, and readers scan the Parquet (slower, never wrong).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from intentkg import duck
from intentkg.kg.build_edges import STRUCTURAL
from intentkg.workspace.fingerprint import sha256_path
from intentkg.workspace.manifest import Manifest

INDEX_DIR = "index"
ROWS, HEADS, META = "rows.arrow", "heads.arrow", "meta.json"
FORMAT = 3
BATCH_ROWS = 65_536
KEY_SQL = "('0x' || substr(md5(head), 1, 16))::UBIGINT"  # = head_key(head)


def head_key(head: str) -> int:
    """The 64-bit key the index is sorted by (the SQL form is KEY_SQL)."""
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


def write_index(con: duckdb.DuckDBPyConnection, folder: Path, edges_folder: Path, nodes_path: Path) -> dict[str, Any]:
    """Derive the index folder at ``folder`` from the edge and node files just written (same folder
    layout as the committed KG); returns what the build manifest records about it."""
    kg_folder = nodes_path.parent
    files = edge_files(edges_folder)
    folder.mkdir(parents=True, exist_ok=True)
    order = duck.run(con, "SELECT current_setting('preserve_insertion_order')")[0][0]
    duck.run(con, "SET preserve_insertion_order = true")
    nodes = f"read_parquet({duck.quote_path(nodes_path)})"
    sql = (f"SELECT * FROM ({facts_sql(parquet_source(files), nodes)}) "
           f"ORDER BY {KEY_SQL}, head, relation, tail")
    starts: list[int] = []
    heads: list[str] = []
    rows, last = 0, None
    try:
        batches = duck.reader(con, sql, BATCH_ROWS)
        with pa.OSFile(str(folder / ROWS), "wb") as sink, pa.ipc.new_file(sink, batches.schema) as writer:
            for batch in batches:
                if not batch.num_rows:
                    continue
                writer.write_batch(batch)
                column = batch.column("head")
                new = np.flatnonzero(pc.not_equal(column[1:], column[:-1]).to_numpy(zero_copy_only=False)) + 1
                first = [] if column[0].as_py() == last else [0]
                for i in first + new.tolist():
                    starts.append(rows + i)
                    heads.append(column[i].as_py())
                rows += batch.num_rows
                last = column[-1].as_py()
    finally:
        duck.run(con, f"SET preserve_insertion_order = {'true' if order else 'false'}")
    keys = np.array([head_key(h) for h in heads], dtype=np.uint64)
    bounds = np.array(starts + [rows], dtype=np.int64)
    with pa.OSFile(str(folder / HEADS), "wb") as sink:
        table = pa.table({"head_key": keys, "head": pa.array(heads, pa.string()),
                          "start": bounds[:-1], "stop": bounds[1:]})
        with pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    meta = {"format": FORMAT, "rows": rows, "heads": len(heads), "edges_sha256": sha256_path(edges_folder),
            "nodes_sha256": sha256_path(nodes_path), "files": _signature(kg_folder, [*files, nodes_path])}
    (folder / META).write_text(json.dumps(meta))
    return {"folder": INDEX_DIR, "rows": rows, "heads": len(heads), "format": FORMAT,
            "edges_sha256": meta["edges_sha256"], "nodes_sha256": meta["nodes_sha256"]}


@dataclass
class Index:
    """An open head index: ``rows`` (memory-mapped, sorted by key) and the key -> row-range map."""

    rows: pa.Table
    keys: np.ndarray  # uint64, sorted, one per head
    heads: pa.Array
    starts: np.ndarray
    stops: np.ndarray

    def __post_init__(self) -> None:
        chunks = self.rows.to_batches()
        self._offsets = np.cumsum([0] + [b.num_rows for b in chunks])
        self._arrays = [{name: b.column(name) for name in b.schema.names} for b in chunks]

    def range(self, head: str) -> tuple[int, int] | None:
        """The rows [start, stop) of ``head``; None when it has no intention edge."""
        key = np.uint64(head_key(head))
        lo = int(np.searchsorted(self.keys, key, "left"))
        hi = int(np.searchsorted(self.keys, key, "right"))
        for i in range(lo, hi):  # more than one only when two heads share a 64-bit key
            if self.heads[i].as_py() == head:
                return int(self.starts[i]), int(self.stops[i])
        return None

    def columns(self, start: int, stop: int, names: Sequence[str]) -> dict[str, list]:
        """Rows [start, stop) as Python lists per column: a slice of each mapped array when the rows lie
        in one record batch (nearly always), else of the table."""
        if stop <= start:
            return {name: [] for name in names}
        batch = int(np.searchsorted(self._offsets, start, "right")) - 1
        if stop <= self._offsets[batch + 1]:
            arrays, offset = self._arrays[batch], int(self._offsets[batch])
            return {name: arrays[name].slice(start - offset, stop - start).to_pylist() for name in names}
        return self.rows.slice(start, stop - start).select(list(names)).to_pydict()


def _mapped(path: Path) -> pa.Table:
    return pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()  # uncompressed: zero-copy


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


def open_index(kg_folder: Path, manifest: Manifest | None) -> Index | None:
    """The index when it matches the KG files; else None with a warning."""
    folder = kg_folder / INDEX_DIR
    rebuild = f"lookups scan the Parquet files instead (slower); run `intentkg build -w {kg_folder.parent} --force`"
    if not (folder / META).exists():
        warnings.warn(f"{folder} is missing: {rebuild}", StaleIndexWarning, stacklevel=3)
        return None
    try:
        meta = json.loads((folder / META).read_text())
    except (OSError, ValueError) as exc:
        warnings.warn(f"{folder / META} cannot be read ({exc}): {rebuild}", StaleIndexWarning, stacklevel=3)
        return None
    why = _why_stale(kg_folder, manifest, meta)
    if why is None:
        try:
            rows, heads = _mapped(folder / ROWS), _mapped(folder / HEADS)
        except (OSError, pa.ArrowException) as exc:
            why = f"it cannot be read ({exc})"
        else:
            bounds = heads.column("stop").to_numpy()
            if rows.num_rows != meta.get("rows") or heads.num_rows != meta.get("heads") or \
                    (len(bounds) and bounds[-1] != rows.num_rows):
                why = f"it holds {rows.num_rows} rows and {heads.num_rows} heads, its meta.json says " \
                      f"{meta.get('rows')} and {meta.get('heads')}"
    if why is not None:
        warnings.warn(f"{folder} is stale ({why}): {rebuild}", StaleIndexWarning, stacklevel=3)
        return None
    return Index(rows=rows, keys=heads.column("head_key").to_numpy(), heads=heads.column("head").combine_chunks(),
                 starts=heads.column("start").to_numpy(), stops=bounds)
