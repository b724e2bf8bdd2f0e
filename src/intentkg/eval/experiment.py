"""Train heads on frozen features, predict held-out pairs, score both settings and the lift.

For each encoder x task x head: fit on the training rows and predict the evaluated rows, once per
seed and setting (identical features apart from the knowledge text; ``mlp_vote`` once per setting,
its ``seeds`` MLPs voting), then :func:`compare` scores
them with paired bootstrap intervals over queries. With ``folds > 1`` every query is predicted by
a head trained on the other folds.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from intentkg.eval.config import SETTINGS, TASKS, EvalConfig
from intentkg.eval.controls import CONTROLS
from intentkg.eval.esci_data import EsciData
from intentkg.eval.heads import deterministic, fit_predict, fits_per_call
from intentkg.eval.metrics import compare
from intentkg.progress import bar

PREDICTIONS = pa.schema([
    pa.field("example_id", pa.string()), pa.field("query_id", pa.string()), pa.field("encoder", pa.string()),
    pa.field("head", pa.string()), pa.field("task", pa.string()), pa.field("setting", pa.string()),
    pa.field("seed", pa.int32()), pa.field("label", pa.string()), pa.field("predicted", pa.string()),
])


def task_targets(labels: list[str], task: str) -> np.ndarray:
    if task == "esci":
        order = {label: i for i, label in enumerate(TASKS["esci"])}
        return np.array([order[label] for label in labels], dtype=np.int64)
    return np.array([1 if label == "S" else 0 for label in labels], dtype=np.int64)


def splits(data: EsciData, config: EvalConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train rows, evaluated rows) per fold; one pair in split mode."""
    if config.data.folds > 1:
        fold = data.pairs.column("fold").to_numpy()
        return [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(config.data.folds)
                if (fold == k).any()]
    train = np.flatnonzero(data.split_mask(config.data.train_split))
    test = np.flatnonzero(data.split_mask(config.data.test_split))
    if not len(train) or not len(test):
        from intentkg.errors import InputError

        raise InputError(f"the selection has {len(train)} {config.data.train_split!r} and {len(test)} "
                         f"{config.data.test_split!r} pairs; both are needed",
                         hint="choose other --train-split/--test-split, or --folds 5 to cross-fit")
    return [(train, test)]


def _predict(features: np.ndarray, y: np.ndarray, parts, head: str, seed: int, members: int) -> np.ndarray:
    out = []
    for train, test in parts:
        out.append(fit_predict(head, features[train], y[train], features[test], seed=seed, members=members))
    return np.concatenate(out)


def run_heads(features: dict[tuple[str, str], np.ndarray], data: EsciData, config: EvalConfig
              ) -> tuple[list[dict], pa.Table]:
    parts = splits(data, config)
    evaluated = np.concatenate([test for _, test in parts])
    labels = data.pairs.column("label").to_pylist()
    groups = np.array(data.pairs.column("query_id").to_pylist(), dtype=object)[evaluated]
    encoders = [e for e in config.encoders if (e, "without") in features]
    settings = [s for s in (*SETTINGS, *CONTROLS) if all((e, s) in features for e in encoders)]
    jobs = [(e, t, h) for e in encoders for t in config.tasks for h in config.heads]
    fits = sum(fits_per_call(h, config.seeds) if deterministic(h) else config.seeds for _, _, h in jobs) \
        * len(settings) * len(parts)
    results, tables = [], []
    with bar("training heads", total=fits, unit="fits") as progress:
        for encoder, task, head in jobs:
            y = task_targets(labels, task)
            predictions: dict[str, list[np.ndarray]] = {s: [] for s in settings}
            for seed in range(config.seeds):
                for setting in settings:
                    if deterministic(head) and seed > 0:
                        predictions[setting].append(predictions[setting][0])
                        continue
                    predictions[setting].append(_predict(features[(encoder, setting)], y, parts, head, seed,
                                                         config.seeds))
                    progress.advance(len(parts) * fits_per_call(head, config.seeds))
            scored = compare(y[evaluated], groups, predictions["without"], predictions["with"], TASKS[task],
                             n_boot=config.n_boot, seed=0, keep_replicates=True)
            result = {"encoder": encoder, "head": head, "task": task, **scored}
            replicates = {"without": result.pop("_replicates")}
            for control in (s for s in settings if s in CONTROLS):  # same replicates (seed 0): paired
                against = compare(y[evaluated], groups, predictions[control], predictions["with"], TASKS[task],
                                  n_boot=config.n_boot, seed=0, keep_replicates=True)
                replicates[control] = against.pop("_replicates")
                result.setdefault("controls", {})[control] = {"score": against["without"], "lift": against["lift"]}
            result["_replicates"] = replicates  # popped by controls.decide; never written
            results.append(result)
            tables.append(prediction_table(data, evaluated, encoder, head, task, y, predictions))
    return results, pa.concat_tables(tables) if tables else PREDICTIONS.empty_table()


def prediction_table(data: EsciData, rows: np.ndarray, encoder: str, head: str, task: str, y: np.ndarray,
                     predictions: dict[str, list[np.ndarray]]) -> pa.Table:
    """One row per evaluated pair, setting and seed (built with Arrow kernels: millions of rows are fine)."""
    names = pa.array(TASKS[task], pa.string())
    index = pa.array(rows)
    example = data.pairs.column("example_id").take(index)
    query = data.pairs.column("query_id").take(index)
    truth = names.take(pa.array(y[rows]))
    n = len(rows)
    parts = []
    for setting, runs in predictions.items():
        for seed, predicted in enumerate(runs):
            constant = [pa.repeat(pa.scalar(v, t), n) for v, t in
                        ((encoder, pa.string()), (head, pa.string()), (task, pa.string()), (setting, pa.string()),
                         (seed, pa.int32()))]
            parts.append(pa.table([example, query, *constant, truth, names.take(pa.array(predicted))],
                                  schema=PREDICTIONS))
    return pa.concat_tables(parts) if parts else PREDICTIONS.empty_table()
