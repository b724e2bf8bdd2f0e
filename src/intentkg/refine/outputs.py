"""What a refine run leaves: the adapter, the merged model, its GGUF, the curves and the lineage record."""

from __future__ import annotations

from intentkg.llm.model_files import file_hash
from intentkg.llm.model_lineage import FORMAT, family_of, model_hash
from intentkg.refine.config import COMPONENTS, RefineConfig


def write_outputs(run, config: RefineConfig, model, tokenizer) -> dict[str, str]:
    """adapter/, merged/ and (with ``export_gguf``) policy.gguf, through distil's export; returns name -> hash."""
    from intentkg.distill.export import merge_adapter, save_merged, write_gguf

    adapter = run.output("adapter")
    model.save_pretrained(str(adapter), safe_serialization=True)
    run.register("adapter")
    merged = save_merged(merge_adapter(model), tokenizer, run.output("merged"))
    run.register("merged")
    artifacts = {"adapter": model_hash(adapter), "merged": model_hash(merged)}
    run.add_model("refined", "refine/merged", merged / "model.safetensors")
    if config.export_gguf:
        gguf = write_gguf(merged, run.output("policy.gguf"))
        run.register("policy.gguf")
        artifacts["policy.gguf"] = model_hash(gguf)
        run.add_model("refined", "refine/policy.gguf", gguf)
    return artifacts


def write_curves(run, curve: list[dict], log: list[dict], best: dict | None, stopped_at: int | None) -> None:
    run.write_json("curves.json", {"guard": curve, "trainer": log, "stopped_at": stopped_at,
                                   "best_step": best["step"] if best else None})


def lineage_record(run, config: RefineConfig, base, critic, judge, split, artifacts: dict[str, str],
                   heldout_critic_hash: str | None) -> dict:
    """The refined model's lineage, in the student's record format (``intentkg lineage`` reads it)."""
    from intentkg.llm.trainable import gguf_path_of

    base_entry = {"id": base.model_id, "sha256": base.model_hash, "source": base.source,
                  **family_of(gguf_path_of(base.model_id) or base.folder).as_dict()}
    components = {}
    for name in COMPONENTS:
        weight = config.reward.weight(name)
        if not weight:
            continue
        entry: dict = {"weight": weight}
        if name in ("plausibility", "typicality") and critic is not None:
            entry.update({"model": critic.critic_id, "sha256": [file_hash(w) for w in critic.weights]})
        elif name == "judge" and judge is not None:
            info = judge.backend.info()
            entry.update({"model": info.model_id, "sha256": info.model_hash, "backend": info.backend})
        else:
            entry["model"] = "intentkg.filter rules (the workspace's filter config)"
        components[name] = entry
    return {
        "format": FORMAT, "origin": "refined",
        "model": {"id": f"{run.workspace.root.name}/refine", "artifacts": artifacts},
        "base": base_entry, "reference": {**base_entry, "beta": config.train.beta},
        "teacher": None, "reward": components,
        "judge": components.get("judge"),
        "heldout": {"sha256": split.heldout_hash, **split.counts(), "heldout_share": config.guard.heldout_share,
                    "heldout_critic_sha256": heldout_critic_hash},
        "warnings": [],
    }
