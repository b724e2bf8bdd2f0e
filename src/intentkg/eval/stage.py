"""``intentkg eval esci``: the frozen-encoder knowledge-injection test (COSMO's ESCI experiment).

    results = run_esci_eval("ws", EvalConfig(data=EsciDataConfig(path=Path("esci"))))
    results["headline"]   # the primary comparison's lift, with its interval

Writes ``<ws>/eval-esci/``: ``results.json`` (every encoder x head x task: both settings' scores
with intervals, per-seed values, the lift; coverage; the config), ``predictions.parquet`` (every
evaluated pair, setting and seed), ``knowledge.parquet`` (the knowledge text each pair got and its
sources) and ``manifest.json``. Embeddings are cached in ``<ws>/.cache/embeddings``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from intentkg.engine.settings import without_engine
from intentkg.embed.cached import cache_root as embedding_cache_root
from intentkg.errors import IntentkgError
from intentkg.eval.config import SETTINGS, EvalConfig
from intentkg.eval.controls import control_inputs, decide, headline_controls
from intentkg.eval.esci_data import EsciData, load_esci
from intentkg.eval.experiment import run_heads, splits
from intentkg.eval.inputs import Knowledge, bi_texts, cross_texts, gather_knowledge
from intentkg.workspace import Workspace

RESULTS_FILE = "results.json"


def cache_root(ws: Workspace) -> Path:
    return embedding_cache_root(ws.root)


def read_results(workspace: str | Path | Workspace, stage: str = "eval-esci") -> dict[str, Any] | None:
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    path = ws.output_path(stage, RESULTS_FILE)
    return json.loads(path.read_text()) if path.exists() else None


def headline(results: list[dict], primary: tuple[str, str, str, str]) -> dict | None:
    """The primary comparison (encoder, head, task, metric), else the nearest one that was run."""
    if not results:
        return None
    encoder, head, task, metric = primary
    preferences = [lambda r: (r["encoder"], r["head"], r["task"]) == (encoder, head, task),
                   lambda r: (r["encoder"], r["task"]) == (encoder, task), lambda r: r["task"] == task]
    chosen = next((r for wanted in preferences for r in results if wanted(r)), results[0])
    metric = metric if metric in chosen["lift"] else "macro_f1"
    lift = chosen["lift"][metric]
    return {"encoder": chosen["encoder"], "head": chosen["head"], "task": chosen["task"], "metric": metric,
            "without": chosen["without"][metric], "with": chosen["with"][metric], **lift,
            "n_pairs": chosen["n_pairs"], "n_queries": chosen["n_queries"], **headline_controls(chosen, metric)}


def _knowledge_table(data: EsciData, knowledge: Knowledge) -> pa.Table:
    p = data.pairs
    return pa.table({
        "example_id": p.column("example_id"), "query": p.column("query"), "product_id": p.column("product_id"),
        "split": p.column("split"), "label": p.column("label"),
        "query_knowledge": pa.array(knowledge.query_text, pa.string()),
        "product_knowledge": pa.array(knowledge.product_text, pa.string()),
        "knowledge": pa.array(knowledge.pair_text, pa.string()),
        "sources": pa.array([sorted(k.sources) for k in knowledge.pairs], pa.list_(pa.string())),
    })


def run_esci_eval(workspace: str | Path | Workspace, config: EvalConfig, force: bool = False) -> dict[str, Any]:
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    data = load_esci(config.data)
    parts = splits(data, config)  # fails early, before any model loads, when a split is empty
    has_kg = (ws.read_dir("kg") / "nodes.parquet").exists() if ws.manifest("kg") else False
    if config.knowledge.kg and not has_kg:
        raise IntentkgError(f"workspace {ws.root} has no KG: build one (`intentkg build -w {ws.root}`), point "
                            f"-w at a workspace that has one, or run with --no-kg --on-demand")
    # the KG lookup also reads ingest's behaviours (leave-own-out, hidden test queries): declared too
    inputs: list[str | Path] = [*data.files, *(["kg", "ingest"] if config.knowledge.kg else [])]
    if config.knowledge.catalogue and ws.manifest("catalogue") is not None:
        inputs.append("catalogue")  # product-side knowledge from the catalogue stage
    if config.knowledge.on_demand:
        inputs += [s for s in ("generate", "filter") if ws.manifest(s) is not None]
        if config.knowledge.on_demand_config:
            inputs.append(Path(config.knowledge.on_demand_config))
        if config.knowledge.on_demand_model and Path(config.knowledge.on_demand_model).is_file():
            inputs.append(Path(config.knowledge.on_demand_model))  # a student file: its hash in the manifest
    stage = config.stage
    # the engine never changes the vectors' cache keys or the results' meaning: not fingerprinted
    with ws.run(stage, config=without_engine(config.model_dump(mode="json")), inputs=inputs, force=force) as run:
        if run.skipped:
            return read_results(ws, stage) or {}
        from intentkg.threads import torch_threads

        with torch_threads(config.threads) as threads:
            run.extra["torch_threads"] = threads
            results, predictions, knowledge, encoders, decision = _compute(ws, run, data, config, parts)
        run.write("predictions", predictions)
        run.write("knowledge", _knowledge_table(data, knowledge))
        top = headline(results, config.primary)
        caches = [m.cache for m in encoders if m.cache is not None]
        run.counts.update({"pairs": data.pairs.num_rows, "evaluated_pairs": top["n_pairs"] if top else 0,
                           "embedding_cache_hits": sum(c.hits for c in caches),
                           "embedding_cache_misses": sum(c.misses for c in caches)})
        run.extra["headline"] = top
        document = {
            "headline": top, "decision": decision, "results": results, "data": data.counts,
            "files": [str(f) for f in data.files or ()], "coverage": knowledge.coverage,
            "knowledge_stats": knowledge.stats, "examples": _examples(data, knowledge),
            "config": config.model_dump(mode="json"), "mode": "folds" if config.data.folds > 1 else "split",
            "embedding_cache": {"hits": run.counts["embedding_cache_hits"],
                                "misses": run.counts["embedding_cache_misses"]},
        }
        run.write_json(RESULTS_FILE, document)
    return document


def _examples(data: EsciData, knowledge: Knowledge, n: int = 5) -> list[dict]:
    """A few evaluated pairs with their knowledge text, for the report (deterministic pick)."""
    rows = [i for i, text in enumerate(knowledge.pair_text) if text][:: max(1, data.pairs.num_rows // 50)][:n]
    p = data.pairs
    return [{"query": p.column("query")[i].as_py(), "title": p.column("title")[i].as_py(),
             "label": p.column("label")[i].as_py(), "knowledge": knowledge.pair_text[i]} for i in rows]


def _compute(ws: Workspace, run, data: EsciData, config: EvalConfig,
             parts) -> tuple[list[dict], pa.Table, Knowledge, list, dict]:
    """Knowledge, features for both settings, heads (and the optional fine-tuned variant)."""
    from intentkg.eval.features import BiEncoder, CrossEncoder

    needs_bi = bool({"bi", "fusion"} & set(config.encoders)) or (config.knowledge.kg and config.knowledge.nearest)
    bi = BiEncoder(config.bi_model, config.device, cache_root(ws)) if needs_bi else None
    if bi is not None:
        run.add_model("bi_encoder", bi.model_id, bi.weights_file)
    with run.time("knowledge"):
        knowledge = gather_knowledge(ws, data, config, bi.embed if bi is not None else None)
    features, cross = {}, None
    controls = control_inputs(data, knowledge, config) if config.controls else {}
    pools = []
    if config.engine.name != "local":  # the encoders' cache misses on the engine's actors
        from intentkg.engine import open_engine
        from intentkg.eval.encode_workers import on_engine

        pools = on_engine(open_engine(config.engine), bi, None, config)
    if "bi" in config.encoders:
        with run.time("features_bi"):
            for setting in SETTINGS:
                features[("bi", setting)] = bi.features(*bi_texts(data, knowledge, setting))  # type: ignore[union-attr]
            for name, control in controls.items():
                features[("bi", name)] = bi.features(*bi_texts(data, control, "with"))  # type: ignore[union-attr]
    if {"cross", "fusion"} & set(config.encoders):
        cross = CrossEncoder(config.cross_model, config.device, cache_root(ws), max_length=config.cross_max_length)
        run.add_model("cross_encoder", cross.model_id, cross.weights_file)
        if config.engine.name != "local":
            pools += on_engine(open_engine(config.engine), None, cross, config)
    if "cross" in config.encoders:
        with run.time("features_cross"):
            for setting in SETTINGS:
                features[("cross", setting)] = cross.features(cross_texts(data, knowledge, setting))  # type: ignore[union-attr]
            for name, control in controls.items():
                features[("cross", name)] = cross.features(cross_texts(data, control, "with"))  # type: ignore[union-attr]
    if "fusion" in config.encoders:
        from intentkg.eval.fusion import fusion_settings

        with run.time("features_fusion"):
            pair = features.get(("cross", "without"))
            if pair is None:
                pair = cross.features(cross_texts(data, knowledge, "without"))  # type: ignore[union-attr]
            queries, products = bi_texts(data, knowledge, "without")
            fused = fusion_settings(lambda texts: bi.embed(texts, "fusion: knowledge texts"),  # type: ignore[union-attr]
                                    pair, queries, products, {"with": knowledge, **controls}, config.fusion_vectors,
                                    config.fusion_facts)
            features.update({("fusion", name): f for name, f in fused.items()})
    for pool in pools:
        pool.close()
    with run.time("heads"):
        results, predictions = run_heads(features, data, config)
        decision = decide(results, config.primary)
    if config.finetune.enabled:
        from intentkg.eval.finetune import finetune_compare

        with run.time("finetune"):
            ft_results, ft_predictions = finetune_compare(data, knowledge, config, parts)
            results.extend(ft_results)
            predictions = pa.concat_tables([predictions, ft_predictions])
    return results, predictions, knowledge, [m for m in (bi, cross) if m is not None], decision
