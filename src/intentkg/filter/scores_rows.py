"""One scores row per candidate: the rule flags of every pass, duplicates, critic scores (schema ``SCORES``).

The stage's last step streams the joined scratch tables (``base`` in :mod:`intentkg.filter.stage`)
through :func:`scores_batch`, which adds the whole-set flags (generic tails, repeated answers,
unconfirmed tails, unrelated tails) to the per-row rule flags and runs the critic.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from intentkg.duck import quote_path
from intentkg.filter.config import FilterConfig
from intentkg.filter.critic import Critic
from intentkg.filter.dedup import TailClusters
from intentkg.filter.similarity import unrelated
from intentkg.schemas import SCORES

def register_clusters(con: duckdb.DuckDBPyConnection, clusters: TailClusters, tails: Path) -> None:
    keys = con.execute(f"SELECT key FROM read_parquet({quote_path(tails)}) ORDER BY tail_idx").fetchnumpy()["key"]
    keys = np.asarray(keys, dtype=object)
    table = pa.table({"tail_idx": np.arange(len(keys), dtype=np.int64), "cluster": clusters.cluster,
                      "cluster_text": keys[clusters.representative] if len(keys) else pa.array([], pa.string())})
    con.register("clusters_arrow", table)
    con.execute("CREATE OR REPLACE TABLE clusters AS SELECT * FROM clusters_arrow")
    con.execute(f"CREATE OR REPLACE TABLE tails AS SELECT tail_idx, key FROM read_parquet({quote_path(tails)})")



def sql_str(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"



def scores_batch(batch: pa.RecordBatch, clusters: TailClusters, critic: Critic | None,
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
            relations = batch.column("relation").to_pylist()
            picked = [relations[i] for i in idx], [tails[i] for i in idx]
            if getattr(critic, "asks_about_behaviours", False):  # the student: the questions it was trained on
                from intentkg.critic.yes_no_prompt import behavior_text

                kinds, lefts, rights = (batch.column(c).to_pylist() for c in ("kind", "left_text", "right_text"))
                result = critic.score([behavior_text(kinds[i], lefts[i] or "", rights[i] or "") for i in idx], *picked,
                                      kinds=[kinds[i] for i in idx])
            else:
                heads = batch.column("head").to_pylist()
                result = critic.score([heads[i] for i in idx], *picked)
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
