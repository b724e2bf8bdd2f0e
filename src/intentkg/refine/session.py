"""One refine run inside its stage run: load the parts, train with the guard, write the outputs.

Kept apart from :mod:`intentkg.refine.stage` (what the stage reads and how it is fingerprinted) so
each file holds one idea; the order of the steps is the order of the docstring in stage.py.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from intentkg.progress import console
from intentkg.refine.config import RefineConfig
from intentkg.refine.split import critic_fitted_ids, require_usable, split_labels


def _threads(config: RefineConfig) -> int:
    from intentkg.critic.train import default_threads

    return config.train.threads or default_threads()


def train_session(ws, run, config: RefineConfig, critic_folder: Path | None, labels: list[dict],
                  quiet: bool = False) -> None:
    from intentkg.critic.train import TrainConfig
    from intentkg.llm.protocol import ModelInfo
    from intentkg.llm.trainable import load_trainable
    from intentkg.operating_point import current
    from intentkg.refine.guard import Generator, Guard
    from intentkg.refine.heldout_critic import HeldoutCritic
    from intentkg.refine.outputs import write_outputs
    from intentkg.refine.prompts import build_prompts
    from intentkg.refine.reward import Reward, trl_reward_funcs
    from intentkg.refine.trainer import build_trainer, use_vllm
    from intentkg.threads import torch_threads

    say = (lambda text: None) if quiet else (lambda text: console.print(f"refine: {text}", highlight=False))
    started = time.perf_counter()
    filter_config, point = _filter_config(ws), current(ws)
    split = split_labels(labels, critic_fitted_ids(critic_folder) if critic_folder else set(),
                         config.guard.heldout_share, config.seed)
    if config.guard.enabled:
        require_usable(split, f"workspace {ws.root}")
    with torch_threads(_threads(config)):
        with run.time("load"):
            base = load_trainable(config.model)
            info = ModelInfo(backend="transformers", model_id=base.model_id, model_hash=base.model_hash,
                             chat=bool(getattr(base.tokenizer, "chat_template", None)), path=str(base.folder))
            run.add_model("base", base.model_id, base.folder / "model.safetensors")
            run.add_model("reference", base.model_id, base.folder / "model.safetensors")
            critic = embedder = judge = None
            if critic_folder is not None:
                from intentkg.filter.critic import Critic

                critic = Critic(critic_folder, max_length=filter_config.critic.max_length)
                for weights in critic.weights:
                    run.add_model("critic", critic.critic_id, weights)
            if filter_config.similarity.enabled:
                from intentkg.embed import load_embedder

                embedder = load_embedder(filter_config.similarity.embedder)
                run.add_model("embedder", embedder.model_id, None)
            judge_backend = None
            if config.reward.weight("judge"):
                judge, judge_backend = _judge(ws, config, run)
        train = build_prompts(ws, info, config.template, config.relations, config.behaviors,
                              config.guard.heldout_share, heldout=False, seed=config.seed,
                              queries=config.prompts == "queries")
        heldout = build_prompts(ws, info, config.template, config.relations, config.guard.behaviors,
                                config.guard.heldout_share, heldout=True, seed=config.seed,
                              queries=config.prompts == "queries")
        say(f"{len(train)} training prompts, {len(heldout)} held-out prompts; policy {base.model_id}")
        reward = Reward(config.reward, filter_config, point, critic, embedder, judge,
                        max_tokens=config.train.max_completion_length)
        callbacks, guard = [], None
        if config.guard.enabled:
            with run.time("heldout_critic"):
                heldout_critic = HeldoutCritic.train(split.guard_critic, TrainConfig(
                    epochs=config.guard.critic_epochs, max_length=32, batch_size=16, seed=config.seed,
                    threads=_threads(config)))
            generator = Generator(base.tokenizer, config.train.max_completion_length, samples=2,
                                  temperature=config.train.temperature, seed=config.seed)
            guard = Guard(reward, [r["prompt"] for r in heldout.rows], [heldout.behaviours[r["prompt_id"]]
                                                                          for r in heldout.rows],
                          heldout_critic, split.heldout, generator, config.guard.every, config.guard.patience,
                          config.guard.tolerance, say, checkpoints=run.output("checkpoints"))
            callbacks.append(guard)
        funcs, weights = trl_reward_funcs(reward, train.behaviours.__getitem__)
        scratch = tempfile.TemporaryDirectory(prefix="intentkg-grpo-")  # TRL's output_dir: nothing kept there
        trainer = build_trainer(config, base.model, base.tokenizer, train.rows, funcs, weights, callbacks,
                                Path(scratch.name), quiet=quiet)
        with run.time("train"):
            trainer.train()
        scratch.cleanup()
        best = guard.restore_best(trainer.model) if guard is not None else None
        after = best  # the kept checkpoint's evaluation (same weights, same sampling seed: no need to repeat it)
        with run.time("export"):
            artifacts = write_outputs(run, config, trainer.model, base.tokenizer)
        if guard is not None:
            run.write("heldout_samples", _samples_table(guard.samples))
            run.register("checkpoints")
            critic_hash = heldout_critic.save(run.output("heldout_critic"))
            run.register("heldout_critic")
            run.add_model("heldout_critic", f"heldout-critic@{critic_hash[:12]}",
                          run.output("heldout_critic") / "model.safetensors")
        if judge_backend is not None:
            judge_backend.close()
        reward.close()
    from intentkg.refine.outputs import lineage_record, write_curves

    log = [{k: v for k, v in row.items() if isinstance(v, (int, float, str))} for row in trainer.state.log_history]
    curve = guard.curve if guard is not None else []
    write_curves(run, curve, log, best, guard.stopped_at if guard else None)
    record = lineage_record(run, config, base, critic, judge, split, artifacts, heldout_critic_hash=
                            critic_hash if guard is not None else None)
    run.write_json("intentkg_lineage.json", record)
    run.extra["lineage"] = record
    run.extra["guard"] = {"curve": curve, "stopped_at": guard.stopped_at if guard else None,
                          "best": {k: v for k, v in best.items()} if best else None,
                          "every": config.guard.every, "patience": config.guard.patience}
    run.counts.update({"train_prompts": len(train), "heldout_prompts": len(heldout), **split.counts(),
                       "steps": trainer.state.global_step, "vllm": use_vllm(config),
                       "before": curve[0] if curve else None, "after": after,
                       "judge": judge.stats if judge is not None else None,
                       "seconds": round(time.perf_counter() - started, 1)})
    if guard is not None and guard.stopped_at is not None:
        say(f"stopped at step {guard.stopped_at}: the reward rose while the held-out agreement fell for "
            f"{config.guard.patience} evaluations; kept the checkpoint of step {best['step'] if best else 0}")


def _filter_config(ws):
    """The filter config the workspace's filter ran with (the reward applies its rules)."""
    from intentkg.filter.config import FilterConfig
    from intentkg.filter.inputs import with_generated_relations

    stored = ws.stage_config("filter")
    config = FilterConfig.model_validate(stored) if stored else FilterConfig()
    return with_generated_relations(ws, config)


def _judge(ws, config: RefineConfig, run):
    from intentkg.generate.request_cache import RequestCache
    from intentkg.generate.stage import cache_folder
    from intentkg.judge.judge import JudgeConfig
    from intentkg.llm import registry
    from intentkg.refine.judge_reward import GroupJudge

    s, b = config.reward.judge, config.reward.judge.backend
    backend = registry.create(b.name, model=b.model, **b.options)
    info = backend.info()
    run.add_model("judge", info.model_id, info.path if info.path and Path(info.path).is_file() else None)
    judge_config = JudgeConfig(backend=b.name, model=b.model, options=b.options, max_retries=s.max_retries,
                               temperature=s.temperature, max_tokens=s.max_tokens, seed=config.seed)
    return GroupJudge(backend, RequestCache(cache_folder(ws)), judge_config), backend


def _samples_table(samples: list[dict]):
    import pyarrow as pa

    schema = pa.schema([("head", pa.string()), ("relation", pa.string()), ("answer", pa.string()),
                        ("reward", pa.float64())])
    return pa.Table.from_pylist(samples, schema=schema)
