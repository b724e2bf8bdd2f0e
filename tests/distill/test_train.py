"""`intentkg distill train` on the bundled SmolLM2-135M: a SIGKILLed run resumes from its checkpoint,
the outputs are an adapter, a merged safetensors model and a GGUF that llama.cpp runs, answering
greedily as the merged model does, and `intentkg generate --model <ws>/distill/student.gguf` works."""

from __future__ import annotations

import json
import shutil

import torch

from intentkg.distill.train import CHECKPOINTS, GGUF, STAGE
from intentkg.llm import bundled
from intentkg.llm.llama_cpp import LlamaCppBackend
from intentkg.llm.model_files import file_hash
from intentkg.llm.protocol import Request, SamplingParams
from intentkg.llm.trainable import resolve_base

PROMPT = "<|im_start|>user\nA customer bought a tent. What is it used for?<|im_end|>\n<|im_start|>assistant\n"


def test_a_killed_run_resumes_from_its_checkpoint(student):
    manifest, state = student["manifest"], student["killed_state"]
    assert state["global_step"] == 1
    assert manifest.counts["resumed_from_step"] == 1 and manifest.counts["steps"] == 2
    losses = manifest.extra["training"]["losses"]
    assert [entry["step"] for entry in losses] == [1, 2]
    # step 1 is the killed run's own (carried in the checkpoint), not a restart
    assert [e["loss"] for e in losses[:1]] == [h["loss"] for h in state["log_history"] if "loss" in h]
    assert not (student["ws"].stage_dir(STAGE) / CHECKPOINTS).exists()  # removed once committed


def test_the_manifest_names_base_data_and_training(student):
    ws, manifest = student["ws"], student["manifest"]
    base = manifest.extra["base"]
    assert base["model_id"] == bundled.SMOLLM2 and base["model_hash"] == file_hash(bundled.smollm2_path())
    data = next(i for i in manifest.inputs if i.name == "distill-data")
    assert manifest.extra["data"]["snapshot_sha256"] == data.sha256
    assert manifest.extra["training"]["args"]["max_steps"] == 2
    roles = {m.role: m for m in manifest.models}
    assert roles["student"].sha256 == file_hash(ws.stage_dir(STAGE) / GGUF)
    assert set(manifest.outputs) >= {"adapter", "merged", GGUF, "train_log.json"}
    folder = ws.stage_dir(STAGE)
    assert (folder / "adapter" / "adapter_model.safetensors").is_file()
    assert (folder / "merged" / "model.safetensors").is_file()
    pickled = [p for p in folder.rglob("*") if p.suffix in (".bin", ".pt", ".pth", ".pkl")]
    assert not pickled
    # the lineage record is written by the training run itself, naming this base and these weights
    record = json.loads((folder / "intentkg_lineage.json").read_text())
    assert record["base"]["sha256"] == file_hash(bundled.smollm2_path())


def test_the_gguf_answers_greedily_as_the_merged_model(student):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = student["ws"].stage_dir(STAGE)
    tokenizer = AutoTokenizer.from_pretrained(str(folder / "merged"))
    merged = AutoModelForCausalLM.from_pretrained(str(folder / "merged"), use_safetensors=True)
    base = AutoModelForCausalLM.from_pretrained(str(resolve_base(bundled.SMOLLM2)[0]), use_safetensors=True)
    name = next(n for n, _ in merged.named_parameters() if "q_proj" in n)
    assert not torch.equal(dict(merged.named_parameters())[name], dict(base.named_parameters())[name])
    ids = tokenizer(PROMPT, return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        out = merged.generate(**ids, max_new_tokens=8, do_sample=False)
    expected = tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    backend = LlamaCppBackend(model=str(folder / GGUF), parallel=1, n_threads=1)
    try:
        result = backend.generate([Request(key="k", params=SamplingParams(temperature=0.0, max_tokens=8,
                                                                          logprobs=False), prompt=PROMPT)])[0]
        assert result.error is None and result.completions[0].text == expected
    finally:
        backend.close()


def test_generate_runs_the_student_through_llama_cpp(student, tmp_path):
    from intentkg.generate import GenerateConfig, run_generate
    from intentkg.workspace import Workspace

    gguf = student["ws"].stage_dir(STAGE) / GGUF
    ws = Workspace(tmp_path / "ws")  # the student's behaviours, in a workspace of its own
    shutil.copytree(student["ws"].stage_dir("ingest"), ws.stage_dir("ingest"))
    config = GenerateConfig.model_validate({"backend": {"model": str(gguf), "options": {"n_threads": 1}},
                                            "relations": ["used_for_event"], "selection": {"limit": 1},
                                            "sampling": {"max_tokens": 12}})
    run_generate(config, ws)
    rows = ws.read("generate", "candidates").to_pylist()
    assert rows and {r["model_hash"] for r in rows} == {file_hash(gguf)}
    assert {r["prompt_id"] for r in rows} == {"qa_chat"}  # the GGUF carries the chat template
    log = json.loads((student["ws"].stage_dir(STAGE) / "train_log.json").read_text())
    assert log["steps"] == 2


def test_the_loss_is_on_the_answer_tokens_only(student, tmp_path):
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTTrainer

    from intentkg.distill.train import TrainConfig, sft_config, training_rows

    ws = student["ws"]
    folder = resolve_base(bundled.SMOLLM2)[0]
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    config = TrainConfig(base=bundled.SMOLLM2, max_length=512, tasks=["co_purchase"])
    rows = training_rows(ws, config)[:2]
    trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(str(folder)), args=sft_config(config, tmp_path, "cpu"),
                         train_dataset=Dataset.from_list(rows), processing_class=tokenizer)
    row = trainer.train_dataset[0]
    mask = [label != -100 for label in row["labels"]]  # TRL's labels: -100 where no loss is taken
    answer = tokenizer.decode([t for t, m in zip(row["input_ids"], mask) if m])
    asked = tokenizer.decode([t for t, m in zip(row["input_ids"], mask) if not m])
    assert answer.strip().startswith(rows[0]["completion"][0]["content"])  # yes / no, then the end-of-turn
    assert rows[0]["prompt"][-1]["content"] in asked and 0 < sum(mask) <= 4
