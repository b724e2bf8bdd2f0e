"""The filter stage: score every candidate, store the scores, report the funnel at the operating point.

Reads ``generate/candidates.parquet`` (and ``ingest/behaviors.parquet`` / ``products.parquet`` for
source texts and product types); writes ``filter/scores.parquet`` (one row per candidate, schema
``SCORES``) and ``manifest.json`` whose counts hold the funnel. Passes, in order:

1. rules (per batch) -> 2. generic tails (DuckDB aggregate) -> 3. completeness (generation log-probs
or llama.cpp) -> 4. embeddings + input similarity -> 5. tail clustering (MinHash LSH + embedding
LSH) -> 6. duplicates (DuckDB windows) -> 7. critic (per batch) while writing the scores.

Scratch files live in the stage's temporary folder and vanish with it. Thresholds are not part of
the fingerprint: changing them re-prints the funnel from the stored scores without re-scoring.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from rich.console import Console

from intentkg.duck import quote_path
from intentkg.errors import IntentkgError
from intentkg.filter import passes
from intentkg.filter.config import FilterConfig, Thresholds
from intentkg.filter.agreement import find_unconfirmed
from intentkg.filter.critic import Critic
from intentkg.filter.dedup import TailClusters, cluster_tails, duplicate_sql
from intentkg.filter.funnel import Funnel
from intentkg.filter.generic_tails import find_generic_tails
from intentkg.filter.repeated_answers import find_repeated_answers
from intentkg.filter.similarity import unrelated
from intentkg.filter.shown_examples import default_shown
from intentkg.filter.view import STAGE, iter_view, verdicts
from intentkg.progress import bar
from intentkg.schemas import BEHAVIORS, PRODUCTS, SCORES
from intentkg.workspace import Manifest, Workspace

OPERATING_POINT = "operating_point.json"


def _inputs(ws: Workspace) -> tuple[Path, Path | None, Path | None, list]:
    candidates = ws.table_path("generate", "candidates")
    if not candidates.exists():
        raise IntentkgError(f"{candidates} is missing: run `intentkg generate -w {ws.root}` first")
    behaviors = ws.table_path("ingest", "behaviors")
    products = ws.table_path("ingest", "products")
    refs: list = []
    for stage, path in (("generate", candidates), ("ingest", behaviors)):
        if ws.manifest(stage) is not None:
            refs.append(stage)
        elif path.exists():
            refs.append(path)
    return candidates, behaviors if behaviors.exists() else None, products if products.exists() else None, refs


def _with_generated_relations(ws: Workspace, config: FilterConfig) -> FilterConfig:
    """Accept the relations the generate stage was configured with (its extra_relations, relations_file)."""
    generated = ws.stage_config("generate")  # paths in it anchored where the workspace is now
    if not generated or config.rules.relations is None:
        return config
    names = list((generated.get("extra_relations") or {}).keys())
    relations_file = generated.get("relations_file")
    if relations_file:
        try:
            import yaml

            names += list((yaml.safe_load(Path(relations_file).read_text(encoding="utf-8")) or {})
                          .get("relations", {}).keys())
        except (OSError, ValueError, AttributeError):
            pass
    extra = [n for n in dict.fromkeys(names) if n not in config.rules.relations
             and n not in config.rules.extra_relations]
    if not extra:
        return config
    rules = config.rules.model_copy(update={"extra_relations": [*config.rules.extra_relations, *extra]})
    return config.model_copy(update={"rules": rules})


def _connect(config: FilterConfig, scratch: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(scratch / "filter.duckdb"))
    con.execute(f"SET memory_limit = '{config.duckdb_memory_limit}'")
    con.execute(f"SET temp_directory = {quote_path(scratch / 'duckdb_tmp')}")
    con.execute("SET preserve_insertion_order = true")
    con.register("empty_behaviors", BEHAVIORS.empty_table())
    con.register("empty_products", PRODUCTS.empty_table())
    return con


def save_operating_point(ws: Workspace, point: Thresholds) -> None:
    """The default operating point of this workspace (read by `intentkg report` and `view`): an output
    of the filter stage, replaced without re-scoring through the same atomic commit."""
    value = point.model_dump(mode="json")
    ws.amend(STAGE, {OPERATING_POINT: json.dumps(value, indent=2)}, extra={"operating_point": value})


def load_operating_point(ws: Workspace) -> Thresholds:
    path = ws.output_path(STAGE, OPERATING_POINT)
    if path.exists():
        return Thresholds.model_validate_json(path.read_text(encoding="utf-8"))
    manifest = ws.manifest(STAGE)
    if manifest is not None and "operating_point" in manifest.extra:
        return Thresholds.model_validate(manifest.extra["operating_point"])
    return Thresholds()


def funnel_at(ws: Workspace, point: Thresholds) -> Funnel:
    funnel = Funnel()
    for batch in iter_view(ws, point):
        funnel.add(batch)
    return funnel


def run_filter(workspace: Workspace | str | Path, config: FilterConfig | None = None, force: bool = False,
               quiet: bool = False) -> tuple[Manifest, Funnel]:
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    config = config or FilterConfig()
    candidates, behaviors, products, refs = _inputs(ws)
    config = _with_generated_relations(ws, config)
    needs_embedder = config.similarity.enabled or config.dedup.semantic
    if needs_embedder:  # the model's files are part of the fingerprint; loading waits until scoring
        from intentkg.embed import bundled_model_path, load_embedder

        model_path = bundled_model_path(config.similarity.embedder) or Path(config.similarity.embedder).expanduser()
        if not model_path.exists():
            load_embedder(config.similarity.embedder)  # raises, saying what to give instead
        refs.append(model_path)
    if config.critic.path is not None:
        refs.append(config.critic.path)
    funnel = None
    with ws.run(STAGE, config=config.fingerprint_config(), inputs=refs, force=force) as run:
        if not run.skipped:
            embedder = None
            if needs_embedder:
                sim = config.similarity
                embedder = load_embedder(sim.embedder, sim.device, sim.batch_size)
            funnel = _score(run, config, candidates, behaviors, products, embedder)
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
           embedder) -> Funnel:
    scratch = run.tmp / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    con = _connect(config, scratch)
    total = con.execute(f"SELECT count(*) FROM read_parquet({quote_path(candidates)})").fetchall()[0][0]
    rows = scratch / "rows.parquet"
    with run.time("rules"):
        passes.rules_pass(con, passes.input_sql(candidates, behaviors, products), total, config, rows,
                          default_shown(run.workspace))
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
        lm = passes.completeness_pass(con, rows, config, scratch / "lm.parquet")
        if lm.get("model_path"):
            run.add_model("completeness", lm["model"], lm["model_path"])
    tails = scratch / "tails.parquet"
    counts = passes.distinct_tails(con, rows, tails)
    vectors = None
    with run.time("similarity"):
        if embedder is not None:
            vectors, embed_stats = passes.embedding_pass(con, rows, tails, len(counts), embedder, config, scratch,
                                                         with_sources=config.similarity.enabled)
            weights = embedder.path / "model.safetensors" if embedder.path else None
            run.add_model("embedder", embedder.model_id, weights if weights and weights.exists() else None)
            run.counts["embeddings"] = embed_stats
        else:
            import pyarrow.parquet as pq

            pq.write_table(pa.schema([("row", pa.int64()), ("input_similarity", pa.float64())]).empty_table(),
                           scratch / "sim.parquet")
    with run.time("dedup"):
        clusters = cluster_tails(passes.tail_texts(con, tails, "key", 65536), counts, config.dedup, scratch, vectors)
        _register_clusters(con, clusters, tails)
        run.counts["dedup"] = clusters.stats
    critic = None
    if config.critic.path is not None:
        critic = Critic(config.critic.path, config.critic.device, config.critic.batch_size, config.critic.max_length)
        for weights in critic.weights:
            run.add_model("critic", critic.critic_id, weights)
    funnel = Funnel()
    with run.time("assemble"):
        _assemble(run, con, config, rows, scratch, clusters, critic, lm, total, funnel)
    summary = funnel.total()
    run.counts.update({"candidates": int(total), "generic_tails": len(generic),
                       "repeated_answer_rows": repeated.num_rows, "unconfirmed_rows": unconfirmed.num_rows,
                       "completeness": {k: v for k, v in lm.items() if k != "model_path"},
                       "kept": summary["kept"], "rejected": summary["candidates"] - summary["kept"],
                       "funnel": funnel.to_dict()})
    con.close()
    return funnel


def _register_clusters(con: duckdb.DuckDBPyConnection, clusters: TailClusters, tails: Path) -> None:
    keys = con.execute(f"SELECT key FROM read_parquet({quote_path(tails)}) ORDER BY tail_idx").fetchnumpy()["key"]
    keys = np.asarray(keys, dtype=object)
    table = pa.table({"tail_idx": np.arange(len(keys), dtype=np.int64), "cluster": clusters.cluster,
                      "cluster_text": keys[clusters.representative] if len(keys) else pa.array([], pa.string())})
    con.register("clusters_arrow", table)
    con.execute("CREATE OR REPLACE TABLE clusters AS SELECT * FROM clusters_arrow")
    con.execute(f"CREATE OR REPLACE TABLE tails AS SELECT tail_idx, key FROM read_parquet({quote_path(tails)})")


def _assemble(run, con: duckdb.DuckDBPyConnection, config: FilterConfig, rows: Path, scratch: Path,
              clusters: TailClusters, critic: Critic | None, lm: dict, total: int, funnel: Funnel) -> None:
    mode = config.completeness.scorer
    use_logprob = mode in ("auto", "generation")
    lm_model = lm.get("model")
    completeness = ("coalesce(r.tail_logprob, l.lm_score)" if use_logprob else "l.lm_score") \
        if mode != "none" else "NULL::DOUBLE"
    source = ("CASE WHEN r.tail_logprob IS NOT NULL THEN 'generation' "
              f"WHEN l.lm_score IS NOT NULL THEN {_sql_str(lm_model)} END") if use_logprob else \
        f"CASE WHEN l.lm_score IS NOT NULL THEN {_sql_str(lm_model)} END"
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
    rows_reader = passes.reader(con, """
        SELECT b.row, b.candidate_id, b.kind, b.head, b.relation, b.tail, b.flags, b.details, b.generic_detail,
               b.repeated_detail, b.unconfirmed_detail,
               b.completeness, b.completeness_source, b.input_similarity, b.cluster_text, b.tail_idx,
               rep.candidate_id AS dup_of, rep.tail_idx AS rep_tail_idx, coalesce(d.dup_count, 0) AS dup_count
        FROM base b LEFT JOIN dups d ON d.row = b.row LEFT JOIN base rep ON rep.row = d.dup_of_row
        ORDER BY b.row""", config.batch_rows)
    with bar("filter: critic + write" if critic else "filter: write", total, unit="rows") as progress:
        for batch in rows_reader:
            scores = _scores_batch(batch, clusters, critic, config)
            run.write("scores", scores)
            view = verdicts(scores, config.thresholds)
            funnel.add(view.append_column("kind", batch.column("kind")).append_column(
                "relation", batch.column("relation")))
            progress.advance(batch.num_rows)
    run.ensure("scores")


def _sql_str(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def _scores_batch(batch: pa.RecordBatch, clusters: TailClusters, critic: Critic | None,
                  config: FilterConfig) -> pa.Table:
    n = batch.num_rows
    flags = batch.column("flags").to_pylist()
    details = batch.column("details").to_pylist()
    for flag, column in (("generic_tail", "generic_detail"), ("ignores_behavior", "repeated_detail"),
                         ("unconfirmed", "unconfirmed_detail")):
        for i, detail in enumerate(batch.column(column).to_pylist()):
            if detail is not None:
                flags[i] = [*flags[i], flag]
                details[i] = [*details[i], detail]
    for i, detail in unrelated(batch.column("input_similarity").to_pylist(), config.similarity.min_relatedness):
        flags[i] = [*flags[i], "unrelated_to_behavior"]
        details[i] = [*details[i], detail]
    dup_of = batch.column("dup_of")
    is_dup = ~np.asarray(dup_of.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    dup_kind: list[str | None] = [None] * n
    dup_sim = np.full(n, np.nan)
    if is_dup.any():
        a = np.asarray(batch.column("tail_idx").to_numpy(zero_copy_only=False))[is_dup].astype(np.int64)
        b = np.asarray(batch.column("rep_tail_idx").to_numpy(zero_copy_only=False))[is_dup].astype(np.int64)
        kinds, sims = clusters.similarity(a, b)
        for j, i in enumerate(np.flatnonzero(is_dup)):
            dup_kind[i] = kinds[j]
        dup_sim[is_dup] = sims
    plausibility = typicality = pa.nulls(n, pa.float64())
    critic_id = pa.nulls(n, pa.string())
    if critic is not None:
        tails = batch.column("tail").to_pylist()
        mask = np.array([t is not None and t.strip() != "" for t in tails])
        if config.critic.skip_flagged:
            mask &= np.array([not f for f in flags])
        if config.critic.skip_duplicates:
            mask &= ~is_dup
        idx = np.flatnonzero(mask)
        if len(idx):
            heads, relations = batch.column("head").to_pylist(), batch.column("relation").to_pylist()
            result = critic.score([heads[i] for i in idx], [relations[i] for i in idx], [tails[i] for i in idx])
            columns = {}
            for task in ("plausibility", "typicality"):
                values = np.full(n, np.nan)
                if task in result:
                    values[idx] = result[task]
                columns[task] = pa.array(values, pa.float64(), mask=np.isnan(values))
            plausibility, typicality = columns["plausibility"], columns["typicality"]
            critic_id = pa.array([critic.critic_id if m else None for m in mask], pa.string())
    return pa.table({
        "candidate_id": batch.column("candidate_id"),
        "rule_flags": pa.array(flags, pa.list_(pa.string())),
        "rule_details": pa.array(details, pa.list_(pa.string())),
        "completeness": batch.column("completeness"),
        "completeness_source": batch.column("completeness_source"),
        "input_similarity": batch.column("input_similarity"),
        "tail_cluster": batch.column("cluster_text"),
        "dup_of": dup_of,
        "dup_kind": pa.array(dup_kind, pa.string()),
        "dup_similarity": pa.array(dup_sim, pa.float64(), mask=np.isnan(dup_sim)),
        "dup_count": pa.array(np.asarray(batch.column("dup_count").to_numpy(zero_copy_only=False)), pa.int32()),
        "plausibility": plausibility,
        "typicality": typicality,
        "critic_id": critic_id,
        "judge_score": pa.nulls(n, pa.float64()),
        "judge_reason": pa.nulls(n, pa.string()),
    }, schema=SCORES)
