"""The candidates table, built from the cached answers block by block of the plan.

The plan (every call, in output order: behaviour order from the seeded selection, then relation
order) goes to the engine as a table of what a candidate row needs of its call, in blocks of
:data:`BLOCK` calls. :class:`CandidatesWorker` turns a block into its candidate rows, reading the
answers from the request cache (read-only: the driver has folded the workers' shards in first).

- local engine: the worker runs in this process and the stage writes its rows as one file;
- ``engine: ray``: the workers write their rows themselves, block ``b`` as part ``b`` of the
  ``candidates`` folder (:class:`intentkg.engine.dataset.Dataset`), committed with the manifest
  by the run; only a one-row summary per block travels back to the driver.

Either way the folder read in name order holds the rows of the one file in the same order, and a
candidate's id is a content hash (behaviour, request key, sample, position), so no row id depends
on the engine (docs/ray.md, "Row ids").
"""

from __future__ import annotations

import json
from collections import Counter

import pyarrow as pa

from intentkg.generate.candidates import candidate_rows
from intentkg.generate.plan import PlannedCall
from intentkg.llm.protocol import ModelInfo
from intentkg.schemas import CANDIDATES

BLOCK = 2000  # calls per block (a part holds their candidates, ~5 rows a call)

PLAN = pa.schema([("call", pa.int64()), ("behavior_id", pa.string()), ("kind", pa.string()), ("head", pa.string()),
                  ("relation", pa.string()), ("cue", pa.string()), ("primer", pa.string()),
                  ("request_key", pa.string()), ("shown", pa.list_(pa.string())), ("head_type", pa.string())])
SUMMARY = pa.schema([("first_call", pa.int64()), ("rows", pa.int64()), ("missing", pa.int64()),
                     ("tokens", pa.int64()), ("statuses", pa.string())])


def plan_table(calls: list[PlannedCall]) -> pa.Table:
    """What a candidate row needs of each call, in plan order (``call``: the place in the plan)."""
    return pa.table({"call": [c.order for c in calls], "behavior_id": [c.behavior_id for c in calls],
                     "kind": [c.kind for c in calls], "head": [c.head for c in calls],
                     "relation": [c.relation for c in calls], "cue": [c.cue for c in calls],
                     "primer": [c.primer for c in calls], "request_key": [c.request.key for c in calls],
                     "shown": [list(c.shown) for c in calls], "head_type": [c.head_type for c in calls]},
                    schema=PLAN)


class _Call:
    """One plan row, with the attributes :func:`candidate_rows` reads of a :class:`PlannedCall`."""

    __slots__ = ("behavior_id", "kind", "head", "relation", "cue", "primer", "request", "shown", "head_type")

    class _Key:
        __slots__ = ("key",)

        def __init__(self, key: str):
            self.key = key

    def __init__(self, row: dict):
        for name in ("behavior_id", "kind", "head", "relation", "cue", "primer", "head_type"):
            setattr(self, name, row[name])
        self.request, self.shown = self._Key(row["request_key"]), tuple(row["shown"] or ())


class CandidatesWorker:
    """A block of the plan -> (its candidate rows, a one-row summary for the driver)."""

    def __init__(self, cache_folder: str, prompt_id: str, template_version: str, model: ModelInfo, max_items: int):
        self.cache_folder, self.model, self.max_items = cache_folder, model, max_items
        self.prompt_id, self.template_version = prompt_id, template_version

    def __call__(self, block: pa.Table) -> tuple[pa.Table, pa.Table]:
        from intentkg.generate.request_cache import answers

        plan = block.to_pylist()
        found = answers(self.cache_folder, [row["request_key"] for row in plan])
        rows: list[dict] = []
        missing = tokens = 0
        for row in plan:
            completions = found.get(row["request_key"])
            if completions is None:
                missing += 1
                continue
            tokens += sum(c.completion_tokens or 0 for c in completions)
            rows.extend(candidate_rows(_Call(row), completions, prompt_id=self.prompt_id,
                                       template_version=self.template_version, model=self.model,
                                       max_items=self.max_items))
        statuses = Counter(r["parse_status"] for r in rows)
        summary = pa.table({"first_call": [plan[0]["call"] if plan else -1], "rows": [len(rows)],
                            "missing": [missing], "tokens": [tokens],
                            "statuses": [json.dumps(dict(sorted(statuses.items())))]}, schema=SUMMARY)
        return pa.Table.from_pylist(rows, schema=CANDIDATES), summary


def write_candidates(run, engine, calls: list[PlannedCall], cache_folder, prompt_id: str, template_version: str,
                     model: ModelInfo, max_items: int) -> dict:
    """Build and write the ``candidates`` output of ``run``; returns the stage's counts."""
    from intentkg.engine.dataset import Dataset
    from intentkg.engine.source import Source

    dataset = Dataset(run.output("candidates"), "candidates") if engine.many_writers else None
    by_status: Counter = Counter()
    missing = rows_written = tokens_all = 0
    with run.time("parse_and_write"):
        outputs = engine.map_batches(Source(table=plan_table(calls)), CandidatesWorker,
                                     (str(cache_folder), prompt_id, template_version, model, max_items),
                                     key="first_call", rows=BLOCK, scratch=run.tmp / "engine", name="candidates",
                                     dataset=dataset)
        for out in outputs:
            if dataset is None:
                rows, out = out
                if rows.num_rows:
                    run.write("candidates", rows)
            for summary in out.to_pylist():
                by_status.update(json.loads(summary["statuses"]))
                missing += summary["missing"]
                rows_written += summary["rows"]
                tokens_all += summary["tokens"]
        if dataset is not None and dataset.folder.exists():
            run.register("candidates", rows_written)
        else:
            run.ensure("candidates")
    return {"candidates": rows_written, "parse_status": dict(sorted(by_status.items())),
            "calls_without_answer": missing, "tokens_out_all_answers": tokens_all}
