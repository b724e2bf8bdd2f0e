"""The filter stage's passes over its scratch tables (each a function of DuckDB + files -> files).

Pass 1 (rules) streams the candidates joined with their behaviour and products and writes
``rows.parquet``: one row per candidate with the rule verdicts and the normalised keys later passes
group by. Later passes read it through DuckDB, so nothing needs the whole candidate set in memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from intentkg.duck import quote_path, reader  # noqa: F401  (reader: used here and by other filter modules)
from intentkg.embed import Embedder
from intentkg.filter.workers import ROWS
from intentkg.filter.config import FilterConfig
from intentkg.filter.similarity import embed_to_memmap, input_similarity
from intentkg.progress import bar



def input_sql(candidates: Path, behaviors: Path | None, products: Path | None) -> str:
    beh = f"read_parquet({quote_path(behaviors)})" if behaviors else "empty_behaviors"
    prod = f"read_parquet({quote_path(products)})" if products else "empty_products"
    from intentkg.parquet_parts import schema

    has_shown = "shown_examples" in schema(candidates).names  # older candidates lack it
    shown = "c.shown_examples" if has_shown else "NULL::VARCHAR[]"
    # ``row`` joins the passes and orders the scores: the candidate's rank by content (its behaviour,
    # then its id, a hash of behaviour, request, sample and position), never its place in a file -
    # the candidates are one file locally and a folder of parts on a cluster (docs/ray.md, "Row ids").
    # Only the two key columns are sorted for it (not the joined rows, which that sort would hold)
    return f"""
        SELECT k.row, c.candidate_id, c.behavior_id, c.kind, c.head, c.relation, c.tail,
               c.parse_status, c.position, c.sample, c.tail_logprob, c.request_key, c.raw_text,
               {shown} AS shown_examples,
               coalesce(b.left_text, c.head) AS left_text, b.right_text,
               pl.product_type AS left_type, pr.product_type AS right_type,
               coalesce(pr.product_type, pr.category, b.category) AS grp
        FROM read_parquet({quote_path(candidates)}) c
        JOIN (SELECT candidate_id, row_number() OVER (ORDER BY behavior_id, candidate_id) - 1 AS row
              FROM read_parquet({quote_path(candidates)})) k ON k.candidate_id = c.candidate_id
        LEFT JOIN {beh} b ON b.behavior_id = c.behavior_id
        LEFT JOIN {prod} pl ON b.kind = 'co_buy' AND pl.product_id = b."left"
        LEFT JOIN {prod} pr ON pr.product_id = b."right"
        """  # no ORDER BY: sorting the joined rows held them all (~0.5 GB at 1 M); nothing needs the order


def rules_pass(con: duckdb.DuckDBPyConnection, sql: str, total: int, config: FilterConfig, out: Path,
               default_shown: dict[str, list[str]] | None = None, engine=None) -> int:
    """Pass 1: rules per candidate -> rows.parquet. Returns rows written.

    ``grp`` (what generic tails count types over) is the catalogue's product type or category, else
    the head noun of the product's title, else of the query (query-only behaviours: on-demand knowledge has no
    product); ``supported`` says whether the tail shares a content word
    with its behaviour; ``answer_key`` is the whole answer, normalised (repeated_answers.py)."""
    from intentkg.engine.local import LocalEngine
    from intentkg.engine.source import Source
    from intentkg.filter.workers import RulesWorker

    engine = engine or LocalEngine()
    written = 0
    with pq.ParquetWriter(out, ROWS, compression="zstd") as writer, \
            bar("filter: rules", total, unit="rows") as progress:
        for table in engine.map_batches(Source(sql=sql, con=con), RulesWorker, (config.rules, default_shown),
                                        key="row", rows=config.batch_rows, scratch=out.parent, name="rules"):
            writer.write_table(table)
            written += table.num_rows
            progress.advance(table.num_rows)
    return written


def _text_chunks(con: duckdb.DuckDBPyConnection, sql: str, column: str, chunk: int) -> Iterator[list[str]]:
    for batch in reader(con, sql, chunk):
        yield batch.column(column).to_pylist()


def completeness_pass(con: duckdb.DuckDBPyConnection, rows: Path, config: FilterConfig, out: Path,
                      engine=None) -> dict:
    """Pass 3: score (relation, tail) pairs with llama.cpp where needed -> lm.parquet."""
    from intentkg.engine.local import LocalEngine
    from intentkg.engine.source import Source
    from intentkg.filter.completeness import default_model_path
    from intentkg.filter.workers import CompletenessWorker

    mode = config.completeness.scorer
    schema = CompletenessWorker.SCHEMA
    if mode in ("none", "generation"):
        pq.write_table(schema.empty_table(), out)
        return {"scored": 0}
    need = "" if mode == "llama" else "AND tail_logprob IS NULL"
    sql = (f"SELECT DISTINCT relation, tail FROM read_parquet({quote_path(rows)}) "
           f"WHERE key IS NOT NULL {need} ORDER BY relation, tail")
    total = con.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0]
    if not total:
        pq.write_table(schema.empty_table(), out)
        return {"scored": 0}
    engine = engine or LocalEngine()
    scorer = config.completeness
    if engine.name != "local" and scorer.n_threads is None:  # a worker's share of the CPUs, not all of them
        scorer = scorer.model_copy(update={"n_threads": max(1, int(engine.settings.cpus_per_worker))})
    with pq.ParquetWriter(out, schema) as writer, bar("filter: completeness", total, unit="tails") as progress:
        for table in engine.map_batches(Source(sql=sql, con=con), CompletenessWorker, (scorer,),
                                        key="relation, tail", rows=256, scratch=out.parent, name="completeness",
                                        model_step=True):
            writer.write_table(table)
            progress.advance(table.num_rows)
    path = Path(config.completeness.model_path) if config.completeness.model_path else default_model_path()
    return {"scored": int(total), "model": path.name, "model_path": str(path)}


def distinct_tails(con: duckdb.DuckDBPyConnection, rows: Path, out: Path) -> np.ndarray:
    """tails.parquet: tail_idx, key, text (a normalised spelling), n. Returns n per tail_idx."""
    con.execute(f"""
        COPY (SELECT row_number() OVER (ORDER BY key) - 1 AS tail_idx, key, min(norm) AS text, count(*) AS n
              FROM read_parquet({quote_path(rows)}) WHERE key IS NOT NULL GROUP BY key ORDER BY key)
        TO {quote_path(out)} (FORMAT parquet)""")
    counts = con.execute(f"SELECT n FROM read_parquet({quote_path(out)}) ORDER BY tail_idx").fetchnumpy()["n"]
    return np.asarray(counts, dtype=np.int64)


def tail_texts(con: duckdb.DuckDBPyConnection, tails: Path, column: str, chunk: int) -> Iterator[list[str]]:
    return _text_chunks(con, f"SELECT {column} FROM read_parquet({quote_path(tails)}) ORDER BY tail_idx",
                        column, chunk)


def _embed(con: duckdb.DuckDBPyConnection, sql: str, total: int, embedder: Embedder, config: FilterConfig,
           path: Path, description: str, engine=None) -> np.ndarray:
    """Embed the texts of ``sql`` (columns i, text; i = 0..total-1) into a float16 memmap at ``path``:
    in this process, or on the engine's workers (each process loads the embedder once)."""
    chunk = config.similarity.chunk_texts
    if engine is None or engine.name == "local":
        return embed_to_memmap(embedder, _text_chunks(con, sql, "text", chunk), total, path, description)
    from intentkg.embed.worker import EmbedWorker, column_vectors
    from intentkg.engine.source import Source

    sim = config.similarity
    matrix = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(total, embedder.dim))
    start = 0
    for table in engine.map_batches(Source(sql=sql, con=con), EmbedWorker, (sim.embedder, sim.device, sim.batch_size),
                                    key="i", rows=chunk, scratch=path.parent, name=path.stem, model_step=True):
        matrix[start:start + table.num_rows] = column_vectors(table.column("vector"), embedder.dim).astype(np.float16)
        start += table.num_rows
    if start != total:
        raise RuntimeError(f"expected {total} texts to embed, got {start}")
    matrix.flush()
    return matrix


def embedding_pass(con: duckdb.DuckDBPyConnection, rows: Path, tails: Path, n_tails: int, embedder: Embedder,
                   config: FilterConfig, scratch: Path, with_sources: bool, engine=None) -> tuple[np.ndarray, dict]:
    """Pass 4: embed distinct tails (and source texts); input similarity per row -> sim.parquet."""
    tail_vectors = _embed(con, f"SELECT tail_idx AS i, text FROM read_parquet({quote_path(tails)}) ORDER BY tail_idx",
                          n_tails, embedder, config, scratch / "tail_vectors.npy", "filter: embed tails", engine)
    stats = {"tails_embedded": n_tails}
    sim_out = scratch / "sim.parquet"
    schema = pa.schema([("row", pa.int64()), ("input_similarity", pa.float64())])
    if not with_sources:
        pq.write_table(schema.empty_table(), sim_out)
        return tail_vectors, stats
    sources = scratch / "sources.parquet"
    con.execute(f"""
        COPY (SELECT row_number() OVER (ORDER BY text) - 1 AS src_idx, text FROM (
                SELECT left_text AS text FROM read_parquet({quote_path(rows)}) WHERE key IS NOT NULL
                UNION SELECT right_text FROM read_parquet({quote_path(rows)}) WHERE key IS NOT NULL)
              WHERE text IS NOT NULL AND trim(text) <> '' ORDER BY text)
        TO {quote_path(sources)} (FORMAT parquet)""")  # an empty side (query-only, product-only) is no source
    n_sources = con.execute(f"SELECT count(*) FROM read_parquet({quote_path(sources)})").fetchall()[0][0]
    source_vectors = _embed(con, f"SELECT src_idx AS i, text FROM read_parquet({quote_path(sources)}) ORDER BY src_idx",
                            n_sources, embedder, config, scratch / "source_vectors.npy", "filter: embed sources",
                            engine)
    stats["sources_embedded"] = int(n_sources)
    sql = f"""
        SELECT r.row, t.tail_idx, coalesce(sl.src_idx, -1) AS li, coalesce(sr.src_idx, -1) AS ri
        FROM read_parquet({quote_path(rows)}) r JOIN read_parquet({quote_path(tails)}) t USING (key)
        LEFT JOIN read_parquet({quote_path(sources)}) sl ON sl.text = r.left_text
        LEFT JOIN read_parquet({quote_path(sources)}) sr ON sr.text = r.right_text"""
    with pq.ParquetWriter(sim_out, schema) as writer:
        for batch in reader(con, sql, config.batch_rows):
            idx = {name: np.asarray(batch.column(name).to_numpy(zero_copy_only=False), dtype=np.int64)
                   for name in ("tail_idx", "li", "ri")}
            sims = input_similarity(tail_vectors, idx["tail_idx"], source_vectors, [idx["li"], idx["ri"]])
            writer.write_table(pa.table({"row": batch.column("row"), "input_similarity": sims}, schema=schema))
    return tail_vectors, stats
