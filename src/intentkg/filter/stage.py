"""The filter stage: score every candidate, store the scores, report the funnel at the operating point.

Reads ``generate/candidates.parquet`` (and ``ingest/behaviors.parquet`` / ``products.parquet`` for
source texts and product types); writes ``filter/scores.parquet`` (one row per candidate, schema
``SCORES``) and ``manifest.json`` whose counts hold the funnel. Passes, in order:

1. rules (per batch) -> 2. generic tails, repeated answers, sample agreement (DuckDB aggregates)
-> 3. completeness (generation log-probs
or llama.cpp) -> 4. embeddings + input similarity -> 5. tail clustering (MinHash LSH + embedding
LSH) -> 6. duplicates (DuckDB windows) -> 7. critic (per batch) while writing the scores.

What it reads is in :mod:`.inputs`, the passes in :mod:`.passes` (and one module per whole-set
check), the scores rows in :mod:`.scores_rows`. Scratch files live in the stage's temporary folder and vanish with it. Thresholds are not part of
the fingerprint: changing them re-prints the funnel from the stored scores without re-scoring.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
from rich.console import Console

from intentkg.duck import quote_path
from intentkg.filter import passes
from intentkg.filter.agreement import find_unconfirmed
from intentkg.filter.config import FilterConfig
from intentkg.filter.critic import Critic
from intentkg.filter.dedup import TailClusters, cluster_tails, duplicate_sql
from intentkg.filter.funnel import Funnel
from intentkg.filter.generic_tails import find_generic_tails
from intentkg.filter.inputs import connect, stage_inputs, with_generated_relations
from intentkg.filter.repeated_answers import find_repeated_answers
from intentkg.engine.dataset import Dataset
from intentkg.engine.source import Source
from intentkg.filter.scores_rows import register_clusters, sql_str
from intentkg.filter.workers import ScoresWorker
from intentkg.filter.shown_examples import default_shown
from intentkg.filter.view import STAGE, iter_view, verdicts
from intentkg.errors import ConfigError
from intentkg.operating_point import OperatingPoint
from intentkg.operating_point import save as save_operating_point
from intentkg.progress import bar
from intentkg.workspace import Manifest, Workspace

def funnel_at(ws: Workspace, point: OperatingPoint) -> Funnel:
    funnel = Funnel()
    for batch in iter_view(ws, point):
        funnel.add(batch)
    return funnel


def run_filter(workspace: Workspace | str | Path, config: FilterConfig | None = None, force: bool = False,
               quiet: bool = False) -> tuple[Manifest, Funnel]:
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    config = config or FilterConfig()
    candidates, behaviors, products, refs = stage_inputs(ws)
    config = with_generated_relations(ws, config)
    needs_embedder = config.similarity.enabled or config.dedup.semantic
    if needs_embedder:  # the model's files are part of the fingerprint; loading waits until scoring
        from intentkg.embed import load_embedder
        from intentkg.model_folder import resolve

        refs.append(resolve(config.similarity.embedder, what="embedder", require=()).path)  # raises, saying why
    if config.critic.path is not None and config.critic.student is not None:
        raise ConfigError("give one critic: critic.path (a critic folder) or critic.student (a GGUF student), not both")
    if config.critic.path is not None:
        refs.append(config.critic.path)
    if config.critic.student is not None:
        from intentkg.llm.llama_cpp import resolve_gguf

        refs.append(resolve_gguf(str(config.critic.student)))
    funnel = None
    with ws.run(STAGE, config=config.fingerprint_config(), inputs=refs, force=force) as run:
        if not run.skipped:
            from intentkg.engine import open_engine

            engine = open_engine(config.engine)
            embedder = None
            if needs_embedder:
                sim = config.similarity
                embedder = load_embedder(sim.embedder, sim.device, sim.batch_size)
            funnel = _score(run, config, candidates, behaviors, products, embedder, engine)
            run.extra["engine"] = {"name": engine.name, "startup_seconds": round(engine.startup_seconds, 3)}
            run.extra["operating_point"] = config.thresholds.model_dump(mode="json")
    save_operating_point(ws, config.thresholds)
    manifest = ws.manifest(STAGE)
    assert manifest is not None
    if funnel is None:  # skipped: same scores, maybe other thresholds
        funnel = funnel_at(ws, config.thresholds)
    if not quiet:
        funnel.print(Console(), title=f"filter funnel ({ws.root})")
    return manifest, funnel


def _score(run, config: FilterConfig, candidates: Path, behaviors: Path | None, products: Path | None,
           embedder, engine) -> Funnel:
    scratch = run.tmp / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    con = connect(config, scratch)
    total = con.execute(f"SELECT count(*) FROM read_parquet({quote_path(candidates)})").fetchall()[0][0]
    rows = scratch / "rows.parquet"
    with run.time("rules"):
        written = passes.rules_pass(con, passes.input_sql(candidates, behaviors, products), total, config, rows,
                                    default_shown(run.workspace), engine)
    if written != total:  # rows are keyed by candidate_id: a repeated id would be scored twice over
        raise ConfigError(f"{candidates}: {total} candidates but {written} rows keyed by candidate_id; the table "
                          f"repeats a candidate_id - run `intentkg generate --force` to rebuild it")
    with run.time("generic"):
        generic = find_generic_tails(con, rows, config.generic)
        generic_schema = pa.schema([("key", pa.string()), ("generic_detail", pa.string())])
        details = [g.detail() for g in generic.values()]
        con.register("generic", pa.table({"key": list(generic), "generic_detail": details}, schema=generic_schema))
        repeated = find_repeated_answers(con, rows, config.repeated)
        con.register("repeated", repeated)
        unconfirmed = find_unconfirmed(con, rows, config.agreement)
        con.register("unconfirmed", unconfirmed)
    with run.time("completeness"):
        lm = passes.completeness_pass(con, rows, config, scratch / "lm.parquet", engine)
        if lm.get("model_path"):
            run.add_model("completeness", lm["model"], lm["model_path"])
    tails = scratch / "tails.parquet"
    counts = passes.distinct_tails(con, rows, tails)
    vectors = None
    with run.time("similarity"):
        if embedder is not None:
            vectors, embed_stats = passes.embedding_pass(con, rows, tails, len(counts), embedder, config, scratch,
                                                         with_sources=config.similarity.enabled, engine=engine)
            weights = embedder.path / "model.safetensors" if embedder.path else None
            run.add_model("embedder", embedder.model_id, weights if weights and weights.exists() else None)
            run.counts["embeddings"] = embed_stats
        else:
            import pyarrow.parquet as pq

            pq.write_table(pa.schema([("row", pa.int64()), ("input_similarity", pa.float64())]).empty_table(),
                           scratch / "sim.parquet")
    with run.time("dedup"):
        clusters = cluster_tails(passes.tail_texts(con, tails, "key", 65536), counts, config.dedup, scratch, vectors)
        register_clusters(con, clusters, tails)
        run.counts["dedup"] = clusters.stats
    critic = None
    if config.critic.path is not None:
        critic = Critic(config.critic.path, config.critic.device, config.critic.batch_size, config.critic.max_length)
    elif config.critic.student is not None:
        from intentkg.filter.student_critic import StudentCritic

        from intentkg.generate.relations import workspace_relations

        critic = StudentCritic(config.critic.student, n_threads=config.critic.student_threads,
                               relations=workspace_relations(run.workspace))
    for weights in (critic.weights if critic is not None else []):
        run.add_model("critic", critic.critic_id, weights)
    funnel = Funnel()
    with run.time("assemble"):
        _assemble(run, con, config, rows, scratch, clusters, critic, lm, total, funnel, engine)
    summary = funnel.total()
    run.counts.update({"candidates": int(total), "generic_tails": len(generic),
                       "repeated_answer_rows": repeated.num_rows, "unconfirmed_rows": unconfirmed.num_rows,
                       "completeness": {k: v for k, v in lm.items() if k != "model_path"},
                       "kept": summary["kept"], "rejected": summary["candidates"] - summary["kept"],
                       "funnel": funnel.to_dict()})
    con.close()
    return funnel


def _assemble(run, con: duckdb.DuckDBPyConnection, config: FilterConfig, rows: Path, scratch: Path,
              clusters: TailClusters, critic: Critic | None, lm: dict, total: int, funnel: Funnel, engine) -> None:
    mode = config.completeness.scorer
    use_logprob = mode in ("auto", "generation")
    lm_model = lm.get("model")
    completeness = ("coalesce(r.tail_logprob, l.lm_score)" if use_logprob else "l.lm_score") \
        if mode != "none" else "NULL::DOUBLE"
    source = ("CASE WHEN r.tail_logprob IS NOT NULL THEN 'generation' "
              f"WHEN l.lm_score IS NOT NULL THEN {sql_str(lm_model)} END") if use_logprob else \
        f"CASE WHEN l.lm_score IS NOT NULL THEN {sql_str(lm_model)} END"
    if mode == "none":
        source = "NULL::VARCHAR"
    con.execute(f"""
        CREATE OR REPLACE TABLE base AS
        SELECT r.*, t.tail_idx, c.cluster, c.cluster_text, s.input_similarity, g.generic_detail,
               rp.detail AS repeated_detail, un.detail AS unconfirmed_detail,
               {completeness} AS completeness, {source} AS completeness_source,
               len(r.flags) + (g.generic_detail IS NOT NULL)::INT + (rp.detail IS NOT NULL)::INT
                 + (un.detail IS NOT NULL)::INT AS n_flags
        FROM read_parquet({quote_path(rows)}) r
        LEFT JOIN tails t ON t.key = r.key
        LEFT JOIN clusters c ON c.tail_idx = t.tail_idx
        LEFT JOIN read_parquet({quote_path(scratch / 'sim.parquet')}) s ON s.row = r.row
        LEFT JOIN read_parquet({quote_path(scratch / 'lm.parquet')}) l ON l.relation = r.relation AND l.tail = r.tail
        LEFT JOIN generic g ON g.key = r.key
        LEFT JOIN repeated rp ON rp.row = r.row
        LEFT JOIN unconfirmed un ON un.row = r.row
    """)
    con.execute(f"CREATE OR REPLACE TABLE dups AS {duplicate_sql('base', config.dedup)}")
    sql = """
        SELECT b.row, b.candidate_id, b.kind, b.head, b.left_text, b.right_text, b.relation, b.tail, b.flags,
               b.details, b.generic_detail,
               b.repeated_detail, b.unconfirmed_detail,
               b.completeness, b.completeness_source, b.input_similarity, b.cluster_text, b.tail_idx,
               rep.candidate_id AS dup_of, rep.tail_idx AS rep_tail_idx, coalesce(d.dup_count, 0) AS dup_count
        FROM base b LEFT JOIN dups d ON d.row = b.row LEFT JOIN base rep ON rep.row = d.dup_of_row
        ORDER BY b.row"""
    # a cluster's workers load the critic from its folder; this process passes the one it loaded
    critic_arg = critic if engine.name == "local" or critic is None else str(config.critic.path)
    # on a cluster the workers write scores as a folder of parts (docs/ray.md); locally one file
    dataset = Dataset(run.output("scores"), "scores") if engine.many_writers else None
    written = 0
    with bar("filter: critic + write" if critic else "filter: write", total, unit="rows") as progress:
        for out in engine.map_batches(Source(sql=sql, con=con), ScoresWorker, (clusters, critic_arg, config),
                                      key="row", rows=config.batch_rows, scratch=scratch, name="scores",
                                      model_step=critic is not None, dataset=dataset):
            scores = out.drop_columns(["row", "kind", "relation"])
            if dataset is None:
                run.write("scores", scores)
            written += scores.num_rows
            view = verdicts(scores, config.thresholds, out.column("relation"))
            funnel.add(view.append_column("kind", out.column("kind")).append_column(
                "relation", out.column("relation")))
            progress.advance(out.num_rows)
    if dataset is not None and dataset.folder.exists():
        run.register("scores", written)
    else:
        run.ensure("scores")
    record_completeness_scale(run, con, config)


def record_completeness_scale(run, con: duckdb.DuckDBPyConnection, config: FilterConfig) -> None:
    """Which scale each row's completeness is on (generation log-probs or the scoring model), and so
    which threshold of the operating point applies to it (docs/filter.md, "Completeness")."""
    sources = {str(s): int(n) for s, n in con.execute(
        "SELECT coalesce(completeness_source, 'none'), count(*) FROM base GROUP BY 1 ORDER BY 1").fetchall()}
    scored = [s for s in sources if s != "none"]
    run.counts["completeness_sources"] = sources
    run.extra["completeness_scale"] = {
        "mode": "one model" if len(scored) <= 1 else "per source",
        "scorer": config.completeness.scorer,
        "threshold": {s: "min_generation_completeness" if s == "generation" else "min_completeness"
                      for s in scored},
    }

