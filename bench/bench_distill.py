"""SFT speed of `intentkg distill train`'s code path against a plain TRL SFTTrainer loop (issue 13):
steps/s and tokens/s on CPU for the bundled SmolLM2-135M-Instruct, on the same rows, in the same run,
alternating the two (plain, intentkg, plain, intentkg, ...) after an untimed warm-up run, so a busy
machine slows both alike.
The goal: intentkg / plain >= 0.9.

    .venv/bin/python bench/bench_distill.py                  # 2 rounds of 12 steps each
    .venv/bin/python bench/bench_distill.py --steps 30 --rounds 3 --threads 2

The intentkg side is :func:`intentkg.distill.train.train_student` (the trainable base, the LoRA
config, the progress callback, checkpoints every --save-steps); the plain side builds SFTTrainer
directly with the same base weights, LoRA and hyper-parameters and no callbacks or checkpoints.
Rows: the co-purchase and search-relevance instructions of the bundled demo (`intentkg ingest demo`,
`intentkg distill data`). Times are the trainers' own train_runtime (the loop, not model loading).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path


def rows_of_demo(folder: Path, limit: int) -> list[dict]:
    from intentkg.distill.data import DataConfig, run_distill_data
    from intentkg.distill.train import TrainConfig, training_rows
    from intentkg.ingest import run_ingest
    from intentkg.ingest.demo import demo_config
    from intentkg.workspace import Workspace

    ws = Workspace(folder / "ws")
    run_ingest(demo_config(), ws)
    tasks = ["co_purchase", "search_relevance"]
    run_distill_data(ws, DataConfig(tasks=tasks))
    return training_rows(ws, TrainConfig(base="-", tasks=tasks, max_rows=limit))


def plain(config, rows: list[dict], out: Path) -> dict:
    """The baseline: SFTTrainer as its documentation shows it, same weights, LoRA and arguments."""
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from intentkg.llm.trainable import resolve_base
    from intentkg.threads import torch_threads

    folder = resolve_base(config.base)[0]
    model = AutoModelForCausalLM.from_pretrained(str(folder))
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    args = SFTConfig(output_dir=str(out), max_steps=config.max_steps, per_device_train_batch_size=config.batch_size,
                     learning_rate=config.learning_rate, logging_steps=config.logging_steps, save_strategy="no",
                     report_to=[], disable_tqdm=True, seed=config.seed, use_cpu=True, max_length=config.max_length,
                     gradient_checkpointing=False, dataloader_num_workers=0)
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=config.target_modules, task_type="CAUSAL_LM")
    with torch_threads(config.threads):
        trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                             peft_config=lora)
        metrics = trainer.train().metrics
    tokens = next(h["num_tokens"] for h in reversed(trainer.state.log_history) if "num_tokens" in h)
    return {"steps_s": trainer.state.global_step / metrics["train_runtime"], "tokens_s": tokens / metrics["train_runtime"]}


def ours(config, rows: list[dict], out: Path) -> dict:
    from intentkg.distill.train import train_student

    done = train_student(config, rows, out)
    runtime = done["metrics"]["train_runtime"]
    return {"steps_s": done["steps"] / runtime, "tokens_s": done["tokens"] / runtime}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--save-steps", type=int, default=50, help="intentkg's checkpoint interval (its default)")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("INTENTKG_NO_PROGRESS", "1")
    from intentkg.distill.train import TrainConfig

    config = TrainConfig(base="smollm2-135m-instruct", max_steps=args.steps, batch_size=args.batch_size,
                         max_length=args.max_length, save_steps=args.save_steps, logging_steps=1,
                         threads=args.threads, device="cpu")
    with tempfile.TemporaryDirectory(prefix="bench-distill-") as tmp:
        tmp_path = Path(tmp)
        rows = rows_of_demo(tmp_path, args.steps * args.batch_size)
        results: dict[str, list[dict]] = {"plain": [], "intentkg": []}
        # the first training in a process pays one-time costs (thread pools, allocator, lazy imports): not timed
        plain(config.model_copy(update={"max_steps": 1}), rows, tmp_path / "warm-up")
        for r in range(args.rounds):
            results["plain"].append(plain(config, rows, tmp_path / f"plain-{r}"))
            results["intentkg"].append(ours(config, rows, tmp_path / f"ours-{r}"))
            print(f"round {r + 1}: plain {results['plain'][-1]['steps_s']:.3f} steps/s "
                  f"{results['plain'][-1]['tokens_s']:.0f} tokens/s; intentkg {results['intentkg'][-1]['steps_s']:.3f}"
                  f" steps/s {results['intentkg'][-1]['tokens_s']:.0f} tokens/s", flush=True)
    med = {k: {m: statistics.median(x[m] for x in v) for m in ("steps_s", "tokens_s")} for k, v in results.items()}
    print(f"SmolLM2-135M-Instruct LoRA r={config.lora_r} ({config.target_modules}), batch {args.batch_size}, "
          f"max_length {args.max_length}, {args.steps} steps x {args.rounds} rounds, CPU, "
          f"{len(rows)} rows; medians:")
    for name in ("plain", "intentkg"):
        print(f"  {name:9s} {med[name]['steps_s']:.3f} steps/s  {med[name]['tokens_s']:.0f} tokens/s")
    ratio = med["intentkg"]["steps_s"] / med["plain"]["steps_s"]
    token_ratio = med["intentkg"]["tokens_s"] / med["plain"]["tokens_s"]
    print(f"overhead ratio intentkg / plain: steps/s {ratio:.3f}, tokens/s {token_ratio:.3f} "
          f"(goal >= 0.9: {'met' if min(ratio, token_ratio) >= 0.9 else 'NOT met'})")


if __name__ == "__main__":
    main()
