"""The filter's per-row steps as engine workers (batch in -> batch out, built once per process).

On the local engine each is built in this process and called on the stage's DuckDB batches in
order (the stage's path before engines existed); on ``engine: ray`` each runs in Ray worker processes over
blocks of the same rows and the driver reads the outputs back in key order (:mod:`intentkg.engine`).
The whole-set steps between them (generic tails, repeated answers, tail clustering, duplicates)
stay on the driver in DuckDB.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from intentkg.filter.config import CompletenessConfig, FilterConfig, RulesConfig
from intentkg.filter.copies import supported
from intentkg.filter.text import normalize
from intentkg.product_types import head_noun

ROWS = pa.schema([
    ("row", pa.int64()), ("candidate_id", pa.string()), ("behavior_id", pa.string()), ("kind", pa.string()),
    ("head", pa.string()), ("relation", pa.string()), ("tail", pa.string()), ("head_key", pa.string()),
    ("key", pa.string()), ("norm", pa.string()), ("grp", pa.string()),
    ("flags", pa.list_(pa.string())), ("details", pa.list_(pa.string())), ("tail_logprob", pa.float64()),
    ("position", pa.int32()), ("sample", pa.int32()), ("left_text", pa.string()), ("right_text", pa.string()),
    ("request_key", pa.string()), ("answer_key", pa.string()), ("supported", pa.bool_()),
])


class RulesWorker:
    """Pass 1: rule verdicts and the normalised keys later passes group by (schema ``ROWS``)."""

    def __init__(self, rules: RulesConfig, default_shown: dict[str, list[str]] | None):
        from intentkg.filter.rules_batch import BatchRuleChecker

        self.checker = BatchRuleChecker(rules, default_shown)

    def __call__(self, batch: pa.Table) -> pa.Table:
        return rules_rows(self.checker, batch)


_PASSED = ("row", "candidate_id", "behavior_id", "kind", "head", "relation", "tail", "tail_logprob", "position",
           "sample", "left_text", "right_text", "request_key")


def rules_rows(checker, batch: pa.Table) -> pa.Table:
    """The ``ROWS`` of one batch of candidates joined with their behaviour and products
    (``checker``: a :class:`~intentkg.filter.rules_batch.BatchRuleChecker`)."""
    from intentkg.filter.rules_batch import per_distinct, plain
    from intentkg.filter.text_batch import normalize_array

    batch = plain(batch)
    found = checker.check(batch)
    declared = batch.column("grp").combine_chunks() if isinstance(batch.column("grp"), pa.ChunkedArray) \
        else batch.column("grp")
    grp = pc.if_else(pc.equal(declared, ""), pa.scalar(None, pa.string()), declared)
    missing = pc.is_null(grp)
    if pc.any(missing).as_py():  # no catalogue type: the head noun of the title, else of the query
        nouns = pc.coalesce(per_distinct(batch.column("right_text").filter(missing), lambda t: head_noun(t or "") or None),
                            per_distinct(batch.column("left_text").filter(missing), lambda q: head_noun(q or "") or None))
        grp = pc.replace_with_mask(grp, missing, nouns.cast(pa.string()))
    columns = {name: batch.column(name) for name in _PASSED}
    columns.update(head_key=normalize_array(batch.column("head")), key=found["key"], norm=found["norm"],
                   grp=grp,
                   flags=found["flags"], details=found["details"],
                   answer_key=normalize_array(batch.column("raw_text")), supported=found["supported"])
    return pa.table([columns[f.name].cast(f.type) for f in ROWS], schema=ROWS)


def rules_rows_per_row(checker, cols: dict[str, list]) -> pa.Table:
    """The same ``ROWS`` a row at a time through :class:`~intentkg.filter.rules.RuleChecker`: the
    definition :func:`rules_rows` is tested and benchmarked against."""
    results = checker.check(cols)
    tails = cols["tail"]
    return pa.table({
        "row": cols["row"], "candidate_id": cols["candidate_id"], "behavior_id": cols["behavior_id"],
        "kind": cols["kind"], "head": cols["head"], "relation": cols["relation"], "tail": tails,
        "head_key": _normalize_all(cols["head"]),
        "key": [r.key for r in results],
        "norm": [r.norm if r.key else None for r in results],
        "grp": [g or head_noun(t or "") or head_noun(q or "") or None
                for g, t, q in zip(cols["grp"], cols["right_text"], cols["left_text"])],
        "flags": [r.flags for r in results], "details": [r.details for r in results],
        "tail_logprob": cols["tail_logprob"], "position": cols["position"], "sample": cols["sample"],
        "left_text": cols["left_text"], "right_text": cols["right_text"],
        "request_key": cols["request_key"], "answer_key": _normalize_all(cols["raw_text"]),
        "supported": [supported(t, a, b) for t, a, b in zip(tails, cols["left_text"], cols["right_text"])],
    }, schema=ROWS)


def _normalize_all(texts: list[str | None]) -> list[str]:
    seen: dict[str | None, str] = {}
    return [seen[t] if t in seen else seen.setdefault(t, normalize(t)) for t in texts]


class CompletenessWorker:
    """Pass 3: the llama.cpp completeness score of (relation, tail) pairs."""

    SCHEMA = pa.schema([("relation", pa.string()), ("tail", pa.string()), ("lm_score", pa.float64())])

    def __init__(self, config: CompletenessConfig):
        from intentkg.filter.completeness import LlamaTailScorer

        self.scorer = LlamaTailScorer(config)

    def __call__(self, batch: pa.Table) -> pa.Table:
        relations, tails = batch.column("relation").to_pylist(), batch.column("tail").to_pylist()
        scores = self.scorer.score_many(list(zip(relations, tails)))
        return pa.table({"relation": relations, "tail": tails, "lm_score": scores}, schema=self.SCHEMA)


class ScoresWorker:
    """Pass 7: the scores rows of a batch (whole-set flags joined in, duplicates, the critic), with the
    row id and the columns the funnel counts by."""

    def __init__(self, clusters, critic, config: FilterConfig):
        from intentkg.filter.critic import Critic

        self.clusters, self.config = clusters, config
        if isinstance(critic, (str, Path)):  # a path: each worker process loads its own copy, once
            from intentkg.engine.hosted import kept

            c = config.critic
            critic = kept(("critic", str(critic), c.device, c.batch_size, c.max_length),
                          lambda: Critic(critic, c.device, c.batch_size, c.max_length))
        self.critic = critic

    def __call__(self, batch: pa.Table) -> pa.Table:
        from intentkg.filter.scores_rows import scores_batch

        scores = scores_batch(batch, self.clusters, self.critic, self.config)
        return (scores.append_column("row", batch.column("row")).append_column("kind", batch.column("kind"))
                .append_column("relation", batch.column("relation")))
