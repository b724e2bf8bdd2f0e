"""``intentkg refine``: the ``refine`` stage of a workspace (GRPO on the generator, guarded).

Reads the ingest behaviours, the generate stage's settings (prompts), the filter's config and
operating point (the reward's rules), the critic (the reward's critic) and the annotation store
(the guard's held-out labels and held-out critic). Writes into ``<ws>/refine/``::

    adapter/                 the LoRA adapter of the best checkpoint by the held-out measure
    merged/                  base + adapter merged, safetensors (a transformers folder)
    policy.gguf              the merged model through llama.cpp's converter (distil's export)
    heldout_critic/          the guard's held-out critic (safetensors)
    curves.json              the guard's curve (one point per evaluation) and the trainer's log
    intentkg_lineage.json    reference model, reward components and their model hashes, judge,
                             held-out set hash (the student's lineage format)
    manifest.json            counts.before / counts.after, extra.guard, extra.lineage
"""

from __future__ import annotations

import json
from pathlib import Path

from intentkg.errors import IntentkgError
from intentkg.refine.config import RefineConfig
from intentkg.workspace import Manifest, Workspace

STAGE = "refine"


def _critic_folder(ws: Workspace, config: RefineConfig) -> Path | None:
    if config.reward.critic is not None:
        return Path(config.reward.critic)
    folder = ws.stage_dir("critic")
    return folder if (folder / "intentkg_critic.json").exists() else None


def _labels(ws: Workspace) -> list[dict]:
    import pyarrow.parquet as pq

    from intentkg.annotate.stage import EXPORT_STAGE, run_export

    run_export(ws)
    return pq.read_table(ws.table_path(EXPORT_STAGE, "labels")).to_pylist()


def run_refine(workspace: Workspace | str | Path, config: RefineConfig | None = None, force: bool = False,
               quiet: bool = False) -> Manifest:
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    config = config or RefineConfig()
    critic_folder = _critic_folder(ws, config)
    needs_critic = config.reward.weight("plausibility") or config.reward.weight("typicality")
    if needs_critic and critic_folder is None:
        raise IntentkgError(f"workspace {ws.root} has no critic: train one (`intentkg train-critic -w {ws.root}`), "
                            f"give reward.critic, or set the plausibility and typicality weights to 0")
    labels = _labels(ws) if config.guard.enabled else []
    inputs: list = ["ingest"] + [s for s in ("generate", "filter", "annotate") if ws.manifest(s) is not None]
    if critic_folder is not None:
        inputs.append(critic_folder)
    with ws.run(STAGE, config=config.model_dump(mode="json"), inputs=inputs, force=force) as run:
        if not run.skipped:
            from intentkg.refine.session import train_session

            train_session(ws, run, config, critic_folder, labels, quiet=quiet)
    return ws.manifest(STAGE)  # type: ignore[return-value]


def load_curves(ws: Workspace) -> dict:
    path = ws.output_path(STAGE, "curves.json")
    if not path.exists():
        raise IntentkgError(f"{ws.root} has no refine curves ({path}); run `intentkg refine -w {ws.root}` first")
    return json.loads(path.read_text(encoding="utf-8"))
