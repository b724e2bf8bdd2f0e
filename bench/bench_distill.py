"""SFT speed of `intentkg distill train`'s code path against a plain TRL SFTTrainer loop (issue 13):
steps/s and tokens/s on CPU for the bundled SmolLM2-135M-Instruct, on the same rows, in the same run,
alternating the two in ABBA order (plain, intentkg, intentkg, plain, ...) after an untimed one-step
warm-up of each, so a busy machine slows both alike. The goal: intentkg / plain >= 0.9. Then the
generation speed of the student as `distill train` writes it (merged, f16 GGUF) against the teacher
(the bundled Gemma 3 270M, Q4_K_M) on the same qa_chat prompts through llama.cpp, also ABBA.

    .venv/bin/python bench/bench_distill.py                  # 2 rounds of 12 steps each
    .venv/bin/python bench/bench_distill.py --steps 30 --rounds 3 --threads 2

The intentkg side is :func:`intentkg.distill.train.train_student` (the trainable base, the LoRA
config, the progress callback, checkpoints every --save-steps); the plain side builds SFTTrainer
directly with the same base weights, LoRA and hyper-parameters and no callbacks or checkpoints.
Rows: the co-purchase and search-relevance instructions of the bundled demo (`intentkg ingest demo`,
`intentkg distill data`). Times are the trainers' own train_runtime (the loop, not model loading).
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import bench_args


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
    # bf16=False as intentkg on CPU: TRL 1.16's SFTConfig defaults to bf16=True, and bf16 autocast on a CPU
    # without bf16 units made the plain side 3x slower in the first run (a baseline with other arguments)
    args = SFTConfig(output_dir=str(out), max_steps=config.max_steps, per_device_train_batch_size=config.batch_size,
                     learning_rate=config.learning_rate, logging_steps=config.logging_steps, save_strategy="no",
                     report_to=[], disable_tqdm=True, seed=config.seed, use_cpu=True, max_length=config.max_length,
                     gradient_checkpointing=False, dataloader_num_workers=0, bf16=False)
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


def export_student(config, rows: list[dict], out: Path) -> Path:
    """The student as `intentkg distill train` writes it: trained, merged, GGUF (f16) through llama.cpp's converter."""
    from intentkg.distill.export import merge_adapter, save_merged, write_gguf
    from intentkg.distill.train import train_student

    done = train_student(config.model_copy(update={"max_steps": 1}), rows, out / "train")  # speed: size, not training
    merged = save_merged(merge_adapter(done["trainer"].model), done["base"].tokenizer, out / "merged")
    return write_gguf(merged, out / "student.gguf")


def generation_prompts(folder: Path, n: int) -> list[dict]:
    """``n`` generation prompts exactly as `intentkg generate` sends a chat model (the qa_chat phrasing the
    student is trained on), for demo behaviours x relations."""
    from intentkg.distill.tasks import PHRASINGS, QA_CHAT, render_generation
    from intentkg.generate.relations import load_schema
    from intentkg.workspace import Workspace

    relations = list(load_schema().relations.values())
    behaviors = Workspace(folder / "ws").read("ingest", "behaviors").to_pylist()
    phrasing = next(p for p in PHRASINGS["generation"] if p.id == QA_CHAT)
    return [{"prompt": render_generation(phrasing, relations[i % len(relations)], relations[i % len(relations)].name,
                                         b["kind"], b["left_text"], b["right_text"])}
            for i, b in enumerate(behaviors[:n])]


def generation_speed(model: str, prompts: list[dict], threads: int | None) -> dict:
    from intentkg.distill.evaluate_generation import teacher_speed
    from intentkg.llm.llama_cpp import LlamaCppBackend

    backend = LlamaCppBackend(model=model, n_threads=threads, parallel=1)
    try:
        return teacher_speed(backend, prompts, chat=backend.info().chat)
    finally:
        backend.close()


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} (min {min(values):.3f}, max {max(values):.3f})"


def main() -> None:
    args = bench_args.parse(__doc__, steps=12, rounds=2, batch_size=4, max_length=128,
                            save_steps=(50, int, "intentkg's checkpoint interval (its default)"),
                            threads=(None, int, "torch / llama.cpp threads (default: all cores)"),
                            prompts=(8, int, "generation prompts for student vs teacher tokens/s"),
                            teacher=("gemma3-270m", str, "the teacher GGUF for the generation speed"))
    import os
    import time

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("INTENTKG_NO_PROGRESS", "1")
    from intentkg.distill.train import TrainConfig

    started = time.perf_counter()
    config = TrainConfig(base="smollm2-135m-instruct", max_steps=args.steps, batch_size=args.batch_size,
                         max_length=args.max_length, save_steps=args.save_steps, logging_steps=1,
                         threads=args.threads, device="cpu")
    with tempfile.TemporaryDirectory(prefix="bench-distill-") as tmp:
        tmp_path = Path(tmp)
        rows = rows_of_demo(tmp_path, args.steps * args.batch_size)
        results: dict[str, list[dict]] = {"plain": [], "intentkg": []}
        # the first training of each side in a process pays one-time costs (thread pools, allocator, lazy
        # imports, the GGUF base's safetensors cache): one untimed step of each before the timed rounds
        plain(config.model_copy(update={"max_steps": 1}), rows, tmp_path / "warm-up-plain")
        ours(config.model_copy(update={"max_steps": 1, "save_steps": 1}), rows, tmp_path / "warm-up-ours")
        for r in range(args.rounds):  # ABBA: plain, intentkg, intentkg, plain, ...
            order = ("plain", "intentkg") if r % 2 == 0 else ("intentkg", "plain")
            for side in order:
                run = plain if side == "plain" else ours
                results[side].append(run(config, rows, tmp_path / f"{side}-{r}"))
            print(f"round {r + 1} ({' then '.join(order)}): plain {results['plain'][-1]['steps_s']:.3f} steps/s "
                  f"{results['plain'][-1]['tokens_s']:.0f} tokens/s; intentkg {results['intentkg'][-1]['steps_s']:.3f}"
                  f" steps/s {results['intentkg'][-1]['tokens_s']:.0f} tokens/s", flush=True)
        student = export_student(config, rows, tmp_path / "student")  # untimed: the file the speeds are of
        prompts = generation_prompts(tmp_path, args.prompts)
        speed: dict[str, list[float]] = {"student": [], "teacher": []}
        generation_speed(str(student), prompts[:1], args.threads)  # warm-up (page cache, thread pools)
        generation_speed(args.teacher, prompts[:1], args.threads)
        for r in range(args.rounds):
            order = ("student", "teacher") if r % 2 == 0 else ("teacher", "student")
            for side in order:
                model = str(student) if side == "student" else args.teacher
                speed[side].append(generation_speed(model, prompts, args.threads)["tokens_per_second"])
            print(f"generation round {r + 1} ({' then '.join(order)}): student {speed['student'][-1]:.1f} tokens/s, "
                  f"teacher {speed['teacher'][-1]:.1f} tokens/s", flush=True)
    print(f"SmolLM2-135M-Instruct LoRA r={config.lora_r} ({config.target_modules}), batch {args.batch_size}, "
          f"max_length {args.max_length}, {args.steps} steps x {args.rounds} rounds per side (ABBA), CPU, "
          f"{len(rows)} rows; medians (min, max):")
    for name in ("plain", "intentkg"):
        print(f"  {name:9s} steps/s {_median([x['steps_s'] for x in results[name]])}  "
              f"tokens/s {_median([x['tokens_s'] for x in results[name]])}")
    med = {k: {m: statistics.median(x[m] for x in v) for m in ("steps_s", "tokens_s")} for k, v in results.items()}
    ratio = med["intentkg"]["steps_s"] / med["plain"]["steps_s"]
    token_ratio = med["intentkg"]["tokens_s"] / med["plain"]["tokens_s"]
    print(f"overhead ratio intentkg / plain: steps/s {ratio:.3f}, tokens/s {token_ratio:.3f} "
          f"(goal >= 0.9: {'met' if min(ratio, token_ratio) >= 0.9 else 'NOT met'})")
    s_rate, t_rate = statistics.median(speed["student"]), statistics.median(speed["teacher"])
    print(f"generation, {len(prompts)} qa_chat prompts, greedy, llama.cpp: student (f16 GGUF) "
          f"{_median(speed['student'])} tokens/s, teacher ({args.teacher}) {_median(speed['teacher'])} tokens/s; "
          f"student / teacher {s_rate / t_rate:.2f}x")
    print(f"({time.perf_counter() - started:.0f} s; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())})")


if __name__ == "__main__":
    main()
