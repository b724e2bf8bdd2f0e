"""The GRPO trainer: TRL's ``GRPOTrainer`` with a peft LoRA on the policy, the refine reward and the guard.

Group-relative policy optimisation samples ``num_generations`` answers per prompt, normalises their
rewards within the group (no value model) and pushes the policy towards the better ones; ``beta``
keeps it near the reference model (the base with the adapter switched off) by a KL penalty.
On CPU (the default) generation uses transformers; with a GPU, or ``use_vllm: true``, vLLM
generates colocated in the training process (``vllm_mode="colocate"``).
"""

from __future__ import annotations

from pathlib import Path

from intentkg.refine.config import RefineConfig


def gpu_present() -> bool:
    import torch

    return torch.cuda.is_available()


def use_vllm(config: RefineConfig) -> bool:
    if config.train.use_vllm is not None:
        return config.train.use_vllm
    if not gpu_present():
        return False
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


def grpo_args(config: RefineConfig, output_dir: Path, steps: int | None = None):
    """The GRPOConfig refine trains with (the benchmark builds TRL's plain trainer from the same)."""
    from trl import GRPOConfig

    t = config.train
    vllm = use_vllm(config)
    extra = {"use_vllm": True, "vllm_mode": "colocate"} if vllm else {}
    return GRPOConfig(
        output_dir=str(output_dir), max_steps=steps or t.steps, learning_rate=t.learning_rate, beta=t.beta,
        num_generations=t.num_generations, per_device_train_batch_size=t.num_generations * t.prompts_per_step,
        max_completion_length=t.max_completion_length, temperature=t.temperature, seed=t.seed,
        use_cpu=not gpu_present(), bf16=False, fp16=False, gradient_checkpointing=False,
        logging_steps=1, report_to=[], save_strategy="no", disable_tqdm=True, remove_unused_columns=False,
        shuffle_dataset=True, **extra)


def lora_config(config: RefineConfig):
    from peft import LoraConfig

    lora = config.lora
    return LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                      target_modules=list(lora.target_modules), task_type="CAUSAL_LM")


def build_trainer(config: RefineConfig, model, tokenizer, rows: list[dict], reward_funcs: list, weights: list[float],
                  callbacks: list, output_dir: Path, steps: int | None = None, quiet: bool = False):
    from datasets import Dataset
    from trl import GRPOTrainer

    args = grpo_args(config, output_dir, steps)
    args.reward_weights = weights
    dataset = Dataset.from_list(rows)
    trainer = GRPOTrainer(model=model, reward_funcs=reward_funcs, args=args, train_dataset=dataset,
                          processing_class=tokenizer, peft_config=lora_config(config), callbacks=callbacks)
    if quiet:  # the per-step log lines; the log itself stays in trainer.state.log_history
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    return trainer
