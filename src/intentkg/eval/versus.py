"""Two stored evaluations compared pair for pair: did knowledge A or knowledge B help more?

    result = versus("ws", "eval-base", "eval-refined")      # "with" of the second minus "with" of the first

Two ``intentkg eval esci`` runs that differ only in their knowledge (e.g. on-demand knowledge from
the unrefined and the refined generator, docs/refine.md) score the same pairs with the same
encoder, heads and seeds; their "without" predictions are the same. Their lifts are each measured
against without knowledge and the controls, but the difference of the two lifts needs its own
interval: :func:`versus` reads both runs' ``predictions.parquet``, checks that they scored the same
pairs with the same labels, and bootstraps the difference of their ``with`` (or any other setting's)
scores over queries with the same paired replicates the stage draws
(:func:`intentkg.eval.metrics.compare`, seed 0). :func:`stored_runs` is the reader the ablation's
Holm adjustment uses too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from intentkg.errors import IntentkgError
from intentkg.workspace import Workspace


def stored_runs(ws: Workspace, stage: str, encoder: str, head: str, task: str
                ) -> tuple[list[str], np.ndarray, np.ndarray, dict[str, list[np.ndarray]]]:
    """(example ids, label indices, query ids, setting -> one prediction array per seed) of a stored evaluation,
    rows sorted by example id."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from intentkg.eval.config import TASKS

    path = ws.table_path(stage, "predictions")
    if not Path(path).exists():
        raise IntentkgError(f"{ws.root / stage}: no predictions; run `intentkg eval esci ... --stage {stage}` first")
    table = pq.read_table(path)
    mask = pc.and_(pc.and_(pc.equal(table["encoder"], encoder), pc.equal(table["head"], head)),
                   pc.equal(table["task"], task))
    rows = table.filter(mask).sort_by([("setting", "ascending"), ("seed", "ascending"), ("example_id", "ascending")])
    if rows.num_rows == 0:
        raise IntentkgError(f"{ws.root / stage}: no predictions of {encoder} + {head} on task {task}; "
                            f"it has {sorted(set(table['encoder'].to_pylist()))} encoders")
    index = {label: i for i, label in enumerate(TASKS[task])}
    by: dict[str, dict[int, tuple]] = {}
    for setting, seed, example, query, truth, predicted in zip(*(rows[c].to_pylist() for c in (
            "setting", "seed", "example_id", "query_id", "label", "predicted"))):
        by.setdefault(setting, {}).setdefault(seed, ([], [], [], []))
        for part, value in zip(by[setting][seed], (example, query, index[truth], index[predicted])):
            part.append(value)
    first = next(iter(by["with"].values()))
    runs = {s: [np.array(v[3]) for _, v in sorted(seeds.items())] for s, seeds in by.items()}
    return list(first[0]), np.array(first[2]), np.array(first[1], dtype=object), runs


def versus(workspace: Workspace | str | Path, first: str, second: str, encoder: str = "fusion", head: str = "mlp",
           task: str = "esci", setting: str = "with", n_boot: int = 1000, other: Workspace | str | Path | None = None
           ) -> dict:
    """``setting`` of ``second`` minus that of ``first`` (both stage folders of ``workspace``, or ``second`` in
    ``other``), paired over queries: the two scores and the difference with its interval, per metric."""
    from intentkg.eval.config import TASKS
    from intentkg.eval.metrics import compare

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    ws2 = ws if other is None else (other if isinstance(other, Workspace) else Workspace(other))
    ex_a, y_a, groups, runs_a = stored_runs(ws, first, encoder, head, task)
    ex_b, y_b, _, runs_b = stored_runs(ws2, second, encoder, head, task)
    if ex_a != ex_b or not np.array_equal(y_a, y_b):
        raise IntentkgError(f"{first} and {second} scored different pairs ({len(ex_a)} and {len(ex_b)}): "
                            f"compare two evaluations of the same data, split and --max-queries")
    for name, runs in ((first, runs_a), (second, runs_b)):
        if setting not in runs:
            raise IntentkgError(f"{name} has no {setting!r} predictions (it has {', '.join(sorted(runs))})")
    if len(runs_a[setting]) != len(runs_b[setting]):
        raise IntentkgError(f"{first} and {second} ran {len(runs_a[setting])} and {len(runs_b[setting])} seeds")
    scored = compare(y_a, groups, runs_a[setting], runs_b[setting], TASKS[task], n_boot=n_boot, seed=0)
    same_without = ("without" in runs_a and "without" in runs_b
                    and all(np.array_equal(a, b) for a, b in zip(runs_a["without"], runs_b["without"])))
    return {"first": first, "second": second, "setting": setting, "encoder": encoder, "head": head, "task": task,
            "first_score": scored["without"], "second_score": scored["with"], "difference": scored["lift"],
            "same_without": same_without, "n_pairs": scored["n_pairs"], "n_queries": scored["n_queries"],
            "n_boot": n_boot}
