"""``intentkg distill train``: supervised fine-tuning of the student (stage ``distill``).

    manifest = run_distill_train("ws", TrainConfig(base="smollm2-135m-instruct", max_steps=200))

TRL's ``SFTTrainer`` with a peft LoRA on the ``train`` split of ``distill-data/instructions.parquet``.
Rows are prompt-completion conversations, so the loss is on the answer tokens only (TRL's
``completion_only_loss``). The base is any Hugging Face causal LM or a GGUF (bundled SmolLM2 /
Gemma 3, or a file) through :mod:`intentkg.llm.trainable`. CPU by default, CUDA when present.

Checkpoints (adapter weights as safetensors, optimizer/scheduler/RNG state, ``trainer_state.json``)
go every ``save_steps`` into ``<ws>/distill/.checkpoints/<run fingerprint>/``; a run with the same
config and data that finds one resumes from the latest (a SIGKILLed run continues where it was).
They are removed once the stage commits. Outputs: ``adapter/`` (peft, safetensors), ``merged/``
(base + adapter, safetensors + tokenizer), ``student.gguf`` (llama.cpp's converter) and
``train_log.json`` (loss per logged step).
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from intentkg.distill.data import STAGE as DATA_STAGE
from intentkg.distill.data import TABLE
from intentkg.distill.tasks import TASKS
from intentkg.errors import ConfigError, IntentkgError
from intentkg.workspace import Manifest, Workspace

STAGE = "distill"
CHECKPOINTS = ".checkpoints"
GGUF = "student.gguf"
# ChatML, given to a base without a chat template, so the student and its GGUF carry one and
# `intentkg generate` sends it chat prompts (the qa_chat phrasing it was trained on)
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
          "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base: str = Field(..., description="bundled model, .gguf file, HF folder or Hub id")
    tasks: list[str] = Field(default_factory=lambda: list(TASKS))
    max_rows: int | None = Field(None, ge=1, description="at most this many training rows (seeded sample)")
    max_steps: int = Field(-1, description="optimizer steps; -1: epochs decide")
    epochs: float = Field(1.0, gt=0)
    batch_size: int = Field(4, ge=1)
    grad_accum: int = Field(1, ge=1)
    learning_rate: float = Field(2e-4, gt=0)
    max_length: int = Field(512, ge=16, description="tokens per row (prompt + answer)")
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: str | list[str] = "all-linear"
    save_steps: int = Field(50, ge=1, description="a checkpoint every this many steps")
    logging_steps: int = Field(5, ge=1)
    seed: int = 0
    device: str = Field("auto", description="auto (CUDA when present), cpu or cuda")
    threads: int | None = Field(None, ge=1, description="CPU threads for torch (None: what the machine has free)")
    gguf_type: str = "f16"
    convert_script: str | None = None


def training_rows(ws: Workspace, config: TrainConfig) -> list[dict]:
    """The train split as TRL prompt-completion conversations (seeded sample of ``max_rows``)."""
    table = ws.read(DATA_STAGE, TABLE)
    rows = [r for r in table.select(["row_id", "task", "prompt", "completion", "split"]).to_pylist()
            if r["split"] == "train" and r["task"] in config.tasks]
    if not rows:
        raise IntentkgError(f"distill train: {ws.stage_dir(DATA_STAGE) / (TABLE + '.parquet')} has no train rows for "
                            f"{', '.join(config.tasks)}; run `intentkg distill data -w {ws.root}` with those tasks")
    if config.max_rows and len(rows) > config.max_rows:
        rows = random.Random(config.seed).sample(rows, config.max_rows)
    return [{"prompt": [dict(m) for m in r["prompt"]],
             "completion": [{"role": "assistant", "content": r["completion"]}]} for r in rows]


def sft_config(config: TrainConfig, output_dir: Path, device: str):
    import torch
    from trl import SFTConfig

    bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
    return SFTConfig(output_dir=str(output_dir), max_steps=config.max_steps, num_train_epochs=config.epochs,
                     per_device_train_batch_size=config.batch_size, gradient_accumulation_steps=config.grad_accum,
                     learning_rate=config.learning_rate, logging_steps=config.logging_steps, save_strategy="steps",
                     save_steps=config.save_steps, save_total_limit=2, report_to=[], disable_tqdm=True,
                     seed=config.seed, data_seed=config.seed, use_cpu=device == "cpu", bf16=bf16,
                     max_length=config.max_length, completion_only_loss=True, dataloader_num_workers=0,
                     lr_scheduler_type="linear", warmup_steps=0,
                     # recomputing activations saves GPU memory for 1-8B bases; on CPU it only costs time
                     gradient_checkpointing=device == "cuda")


def train_student(config: TrainConfig, rows: list[dict], output_dir: Path, stage: str = STAGE) -> dict[str, Any]:
    """Train a LoRA on ``rows`` (resuming from ``output_dir``'s last checkpoint); the trainer and what happened."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import PrinterCallback
    from transformers.trainer_utils import get_last_checkpoint
    from trl import SFTTrainer

    from intentkg.distill.progress import progress_callback
    from intentkg.llm.trainable import load_trainable
    from intentkg.threads import torch_threads

    base = load_trainable(config.base, device=config.device)
    added_template = not base.tokenizer.chat_template
    if added_template:
        base.tokenizer.chat_template = CHATML
    torch.manual_seed(config.seed)
    peft_config = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                             target_modules=config.target_modules, task_type="CAUSAL_LM")
    output_dir.mkdir(parents=True, exist_ok=True)
    last = get_last_checkpoint(str(output_dir))
    with torch_threads(config.threads):
        trainer = SFTTrainer(model=base.model, args=sft_config(config, output_dir, base.device),
                             train_dataset=Dataset.from_list(rows), processing_class=base.tokenizer,
                             peft_config=peft_config, callbacks=[progress_callback(stage)])
        trainer.remove_callback(PrinterCallback)  # the progress bar shows the loss; no dict per log line
        result = trainer.train(resume_from_checkpoint=last)
    state = trainer.state
    resumed = int(Path(last).name.rsplit("-", 1)[-1]) if last else 0
    return {"trainer": trainer, "base": base, "resumed_from_step": resumed, "steps": state.global_step,
            "max_steps": state.max_steps, "metrics": dict(result.metrics), "added_chat_template": added_template,
            "losses": [{"step": h["step"], "loss": h["loss"]} for h in state.log_history if "loss" in h],
            "tokens": next((h["num_tokens"] for h in reversed(state.log_history) if "num_tokens" in h), None)}


def _check(config: TrainConfig) -> None:
    unknown = [t for t in config.tasks if t not in TASKS]
    if unknown or not config.tasks:
        raise ConfigError(f"--task {unknown[0] if unknown else ''!r}: choose from {', '.join(TASKS)}")
    from intentkg.distill.export import OUTTYPES

    if config.gguf_type not in OUTTYPES:
        raise ConfigError(f"--gguf-type {config.gguf_type!r}: choose one of {', '.join(OUTTYPES)}")


def run_distill_train(workspace: str | Path | Workspace, config: TrainConfig, force: bool = False) -> Manifest:
    from intentkg.distill.export import merge_adapter, save_merged, write_gguf
    from intentkg.llm.trainable import gguf_path_of, resolve_base

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    _check(config)
    if ws.manifest(DATA_STAGE) is None:
        raise IntentkgError(f"distill train: workspace {ws.root} has no stage {DATA_STAGE!r}: run "
                            f"`intentkg distill data -w {ws.root}` first")
    _, source, base_hash = resolve_base(config.base)  # converts a GGUF once; its hash enters the fingerprint
    settings = {**config.model_dump(mode="json"), "base_hash": base_hash}
    settings.pop("convert_script")  # where the converter lives does not change the student
    with ws.run(STAGE, config=settings, inputs=[DATA_STAGE], force=force) as run:
        if run.skipped:
            return run.previous  # type: ignore[return-value]
        checkpoints = ws.stage_dir(STAGE) / CHECKPOINTS / run.fingerprint[:16]
        rows = training_rows(ws, config)
        with run.time("train"):
            done = train_student(config, rows, checkpoints)
        trainer, base = done.pop("trainer"), done.pop("base")
        with run.time("export"):
            trainer.model.save_pretrained(str(run.output("adapter")))  # peft writes safetensors
            run.register("adapter")
            save_merged(merge_adapter(trainer.model), base.tokenizer, run.output("merged"))
            run.register("merged")
            write_gguf(run.output("merged"), run.output(GGUF), config.gguf_type, config.convert_script)
            run.register(GGUF)
        run.write_json("train_log.json", done)
        gguf = gguf_path_of(config.base)
        run.add_model("base", config.base, file=gguf)
        run.add_model("student", "student", file=run.output(GGUF))
        # TRL drops a row whose answer is cut off entirely by max_length: say how many
        run.counts.update(steps=done["steps"], resumed_from_step=done["resumed_from_step"], rows_given=len(rows),
                          train_rows=trainer.train_dataset.num_rows,
                          rows_dropped_too_long=len(rows) - trainer.train_dataset.num_rows, tokens=done["tokens"])
        run.extra.update(base={"model_id": config.base, "model_hash": base_hash, "source": source},
                         data={"stage": DATA_STAGE, "snapshot_sha256": run.inputs[0].sha256},
                         training={"args": settings, "metrics": done["metrics"], "losses": done["losses"],
                                   "added_chat_template": done["added_chat_template"]})
    shutil.rmtree(checkpoints.parent, ignore_errors=True)  # committed: the checkpoints are no longer needed
    from intentkg.distill.lineage import ensure_recorded

    ensure_recorded(ws, STAGE)  # teacher, base, data snapshot, critic: `intentkg lineage` walks from here
    return ws.committed(STAGE)  # type: ignore[return-value]
