"""Record real generator answers from a workspace as a small JSON fixture for the filter's tests.

    python scripts/record_gemma_answers.py /tmp/fq-base tests/filter/data/gemma_esci_answers.json --per-relation 12

Takes the first ``--per-relation`` prompts (in behaviour order) of each relation in the
workspace's ``generate/candidates.parquet`` and writes, per prompt: the behaviour's query and
title, the relation, the worked answers the prompt showed (``shown_examples``; for candidates
that predate it, the relation's default shots), the model's whole answer and its parsed tails.
The fixture in the repository was recorded from `intentkg generate` with the bundled Gemma 3 270M
(Q4_K_M, llama.cpp, seed 0, temperature 0.8, the old fixed few-shot prompts: few_shot.rotate false)
on esci-dev's train split (`intentkg ingest esci ../shared/data/esci-dev`), relations
used_for_event, xWant and used_for_function.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pyarrow.parquet as pq


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-relation", type=int, default=12)
    args = parser.parse_args()

    from intentkg.filter.shown_examples import default_shown
    from intentkg.workspace import Workspace

    ws = Workspace(args.workspace)
    defaults = default_shown(ws)
    candidates = pq.read_table(ws.table_path("generate", "candidates")).to_pylist()
    behaviors = {b["behavior_id"]: b for b in pq.read_table(ws.table_path("ingest", "behaviors")).to_pylist()}
    prompts: dict[str, dict] = {}
    per_relation: dict[str, int] = {}
    for row in candidates:
        key = row["request_key"]
        if key not in prompts:
            if per_relation.get(row["relation"], 0) >= args.per_relation:
                continue
            per_relation[row["relation"]] = per_relation.get(row["relation"], 0) + 1
            behavior = behaviors[row["behavior_id"]]
            shown = row.get("shown_examples")
            prompts[key] = {"kind": row["kind"], "query": behavior["left_text"], "title": behavior["right_text"],
                            "relation": row["relation"],
                            "shown_examples": shown if shown is not None else defaults[row["relation"]],
                            "model_id": row["model_id"], "answer": row["raw_text"], "tails": []}
        if row["sample"] == 0 and row["tail"]:
            prompts[key]["tails"].append(row["tail"])
    args.out.write_text(json.dumps(list(prompts.values()), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(prompts)} prompts -> {args.out}")


if __name__ == "__main__":
    main()
