"""``intentkg distill``: the multi-task student (COSMO-LM): instruction data, training, export.

Heavy libraries (torch, transformers, peft, trl) are imported inside the commands, so a core install
starts the CLI and a missing extra is named (``pip install 'intentkg[distill]'``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from intentkg.cli.options import FORCE, WORKSPACE

app = typer.Typer(help="Distil the teacher into a small multi-task student (data, train, export).",
                  no_args_is_help=True)
console = Console(soft_wrap=True)

CONVERT_SCRIPT = typer.Option(None, "--convert-script",
                              help="llama.cpp's convert_hf_to_gguf.py (default: $INTENTKG_CONVERT_SCRIPT, a cached "
                                   "copy, else extracted from llama-cpp-python's sdist fetched with pip).")
OUTTYPE = typer.Option("f16", "--gguf-type", help="GGUF tensor type: f32, f16, bf16, q8_0 or auto.")


@app.command("data")
def data(workspace: Path = WORKSPACE, force: bool = FORCE,
         task: Optional[list[str]] = typer.Option(None, "--task", help="Tasks to build (repeatable; default all "
                                                  "five): generation, plausibility, typicality, search_relevance, "
                                                  "co_purchase."),
         esci: Optional[Path] = typer.Option(None, "--esci", help="ESCI folder (shopping_queries_dataset_examples/"
                                             "products.parquet): its labels join the search-relevance task."),
         esci_max_queries: Optional[int] = typer.Option(None, help="At most this many ESCI queries per ESCI split."),
         negatives: int = typer.Option(1, help="Sampled negatives per positive pair (relevance, co-purchase)."),
         max_tails: int = typer.Option(3, help="Kept tails in one generation answer."),
         seed: int = typer.Option(0, help="Seed of the phrasings, the negatives and the grouped split.")) -> None:
    """Build the student's instruction data: <workspace>/distill-data/instructions.parquet."""
    from intentkg.distill.data import SPLITS, DataConfig, run_distill_data

    config = DataConfig(tasks=list(task) if task else DataConfig().tasks, esci=esci,
                        esci_max_queries=esci_max_queries, negatives=negatives, max_tails=max_tails, seed=seed)
    manifest = run_distill_data(workspace, config, force=force)
    table = Table(title=f"instruction data: {workspace / 'distill-data' / 'instructions.parquet'}",
                  caption="split grouped by behaviour (co_buy) and query (search_buy, ESCI)")
    table.add_column("task")
    for split in SPLITS:
        table.add_column(split, justify="right")
    for name in config.tasks:
        table.add_row(name, *(str(manifest.counts.get(f"{name}/{s}", 0)) for s in SPLITS))
    console.print(table)


@app.command("train")
def train(workspace: Path = WORKSPACE, force: bool = FORCE,
          base: str = typer.Option(..., "--base", help="Base model: a bundled one (smollm2-135m-instruct, "
                                   "gemma3-270m), a .gguf file, a Hugging Face model folder or a cached Hub id."),
          task: Optional[list[str]] = typer.Option(None, "--task", help="Train on these tasks only (repeatable)."),
          max_rows: Optional[int] = typer.Option(None, help="At most this many training rows (seeded sample)."),
          max_steps: int = typer.Option(-1, help="Optimizer steps (-1: --epochs decide)."),
          epochs: float = typer.Option(1.0, help="Passes over the training rows."),
          batch_size: int = typer.Option(4, help="Rows per device step."),
          grad_accum: int = typer.Option(1, help="Gradient accumulation steps."),
          learning_rate: float = typer.Option(2e-4, help="AdamW learning rate."),
          max_length: int = typer.Option(512, help="Tokens per row (prompt + answer)."),
          lora_r: int = typer.Option(16, help="LoRA rank."),
          lora_alpha: int = typer.Option(32, help="LoRA alpha."),
          save_steps: int = typer.Option(50, help="A checkpoint every N steps (a killed run resumes from it)."),
          logging_steps: int = typer.Option(5, help="Record the loss every N steps."),
          seed: int = typer.Option(0, help="Seed of the sample, LoRA init and data order."),
          device: str = typer.Option("auto", help="auto (CUDA when present), cpu or cuda."),
          threads: Optional[int] = typer.Option(None, help="CPU threads for torch."),
          gguf_type: str = OUTTYPE, convert_script: Optional[Path] = CONVERT_SCRIPT,
          rounds: int = typer.Option(0, "--rounds", help="Self-imitation rounds after training (I2D2): the student "
                                     "generates, the critic filters, it retrains; stops when the held-out measure "
                                     "stops improving."),
          round_steps: Optional[int] = typer.Option(None, help="Optimizer steps per round (default: --max-steps)."),
          round_eval_rows: int = typer.Option(60, help="Held-out rows per task of each round's measure."),
          min_improvement: float = typer.Option(0.0, help="A round must beat the best earlier measure by more.")) -> None:
    """Fine-tune the student (TRL SFT + LoRA): writes <workspace>/distill/{adapter,merged,student.gguf}.

    With --rounds K, K self-imitation rounds follow, each in <workspace>/distill-rounds/round-<k>/."""
    from intentkg.distill.train import TrainConfig, run_distill_train

    config = TrainConfig(base=base, tasks=list(task) if task else TrainConfig(base=base).tasks, max_rows=max_rows,
                         max_steps=max_steps, epochs=epochs, batch_size=batch_size, grad_accum=grad_accum,
                         learning_rate=learning_rate, max_length=max_length, lora_r=lora_r, lora_alpha=lora_alpha,
                         save_steps=save_steps, logging_steps=logging_steps, seed=seed, device=device,
                         threads=threads, gguf_type=gguf_type,
                         convert_script=str(convert_script) if convert_script else None)
    if rounds:
        from intentkg.distill.rounds import require_critic
        from intentkg.workspace import Workspace

        require_critic(Workspace(workspace), None)  # before training, not after it
    manifest = run_distill_train(workspace, config, force=force)
    losses = manifest.extra.get("training", {}).get("losses", [])
    last = f", last loss {losses[-1]['loss']:.3f}" if losses else ""
    gguf = workspace / "distill" / "student.gguf"
    console.print(f"student: {manifest.counts.get('steps')} steps (resumed from step "
                  f"{manifest.counts.get('resumed_from_step')}){last}\n{gguf} runs with: intentkg generate -w WS "
                  f"--model {gguf}", highlight=False)
    if rounds:
        from intentkg.distill.evaluate import EvalConfig
        from intentkg.distill.rounds import RoundsConfig, run_distill_rounds

        summary = run_distill_rounds(workspace, RoundsConfig(
            rounds=rounds, train=config, steps=round_steps, min_improvement=min_improvement,
            evaluation=EvalConfig(max_rows=round_eval_rows, n_threads=threads)), force=force)
        table = Table(title=f"self-imitation rounds ({workspace / 'distill-rounds' / 'rounds.json'})",
                      caption=summary["reason"])
        for column in ("round", "held-out measure", "student-kept rows", "student"):
            table.add_column(column, justify="left" if column == "student" else "right")
        for entry in summary["rounds"]:
            mark = " (kept)" if entry["round"] == summary["best_round"] else ""
            table.add_row(str(entry["round"]), str(entry["measure"]), str(entry.get("student_kept_rows") or "—"),
                          entry["student"] + mark)
        console.print(table)


@app.command("export")
def export(base: str = typer.Option(..., "--base", help="The base the adapter was trained on: a bundled model "
                                    "(smollm2-135m-instruct, gemma3-270m), a .gguf file, a model folder or Hub id."),
           adapter: Path = typer.Option(..., "--adapter", help="A peft LoRA adapter folder (adapter_config.json)."),
           out: Path = typer.Option(..., "--out", help="Folder for merged/ (safetensors) and student.gguf."),
           gguf_type: str = OUTTYPE, convert_script: Optional[Path] = CONVERT_SCRIPT,
           device: str = typer.Option("auto", help="auto (CUDA when present), cpu or cuda.")) -> None:
    """Merge a LoRA adapter into its base; write merged/ (safetensors + tokenizer) and student.gguf."""
    from intentkg.distill.export import merge_adapter, save_merged, write_gguf
    from intentkg.llm.trainable import load_trainable

    loaded = load_trainable(base, device=device)
    merged = save_merged(merge_adapter(loaded.model, adapter), loaded.tokenizer, out / "merged")
    gguf = write_gguf(merged, out / "student.gguf", outtype=gguf_type, convert_script=convert_script)
    console.print(f"merged model: {merged}\nGGUF: {gguf} (intentkg generate --model {gguf})", highlight=False)
