"""A smoke-sized `intentkg refine` on the bundled SmolLM2: the reward in the trainer's log, the guard's
forced stop and kept checkpoint, the outputs and their lineage, the report section and `refine eval`."""

from __future__ import annotations

import hashlib
import html
import json

import pyarrow.parquet as pq

from intentkg.llm.bundled import smollm2_path
from intentkg.workspace import Workspace


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_guard_stops_after_patience_evaluations_and_keeps_the_best(refined_ws):
    manifest = Workspace(refined_ws).manifest("refine")
    guard = manifest.extra["guard"]
    curve = guard["curve"]
    # tolerance -10 counts every move: patience 1 fires at the second evaluation (steps 0, 1) although
    # 2 steps were asked for
    assert [p["step"] for p in curve] == [0, 1]
    assert guard["stopped_at"] == 1 and manifest.counts["steps"] == 1
    scores = [p["heldout_critic"] for p in curve]
    assert guard["best"]["step"] == curve[scores.index(max(scores))]["step"]
    assert manifest.counts["before"]["step"] == 0
    for point in curve:
        assert 0.0 <= point["heldout_critic"] <= 1.0 and 0.0 <= point["filter_pass_share"] <= 1.0
        assert point["human_auc"] is None or 0.0 <= point["human_auc"] <= 1.0
    saved = json.loads((refined_ws / "refine" / "curves.json").read_text())
    assert saved["guard"] == curve


def test_the_trainer_logged_each_reward_component(refined_ws):
    log = json.loads((refined_ws / "refine" / "curves.json").read_text())["trainer"]
    steps = [row for row in log if "rewards/rules/mean" in row]
    assert len(steps) == 1
    for row in steps:
        for name in ("parses", "rules", "plausibility", "typicality"):
            assert 0.0 <= float(row[f"rewards/{name}/mean"]) <= 1.0
        assert float(row["kl"]) >= 0.0  # beta > 0: the KL to the reference model is computed


def test_outputs_adapter_and_merged_model_with_the_update_in_it(refined_ws):
    import torch
    from safetensors.torch import load_file

    from intentkg.llm.trainable import resolve_base

    out = refined_ws / "refine"
    assert (out / "adapter" / "adapter_config.json").exists()
    # the outputs are the checkpoint the guard kept: at step 0 that is the untrained adapter (LoRA's B
    # matrices start at zero, the merged model equals the base); after a step, the trained one
    kept = Workspace(refined_ws).manifest("refine").extra["guard"]["best"]["step"]
    adapter = load_file(out / "adapter" / "adapter_model.safetensors")
    moved = any("lora_B" in k and v.abs().sum() > 0 for k, v in adapter.items())
    assert moved == (kept > 0), kept
    merged = load_file(out / "merged" / "model.safetensors")
    base = load_file(resolve_base("smollm2-135m-instruct")[0] / "model.safetensors")
    changed = [k for k in merged if "q_proj" in k and not torch.equal(merged[k], base[k])]
    untouched = [k for k in merged if "mlp" in k and not torch.equal(merged[k], base[k])]
    assert bool(changed) == (kept > 0) and not untouched  # only the LoRA targets (q_proj, v_proj) can move
    gguf = out / "policy.gguf"
    assert gguf.read_bytes()[:4] == b"GGUF"
    record = json.loads((out / "intentkg_lineage.json").read_text())
    assert record["model"]["artifacts"]["policy.gguf"] == _sha256(gguf)


def test_lineage_names_the_reference_the_reward_models_and_the_heldout_set(refined_ws):
    ws = Workspace(refined_ws)
    record = json.loads((refined_ws / "refine" / "intentkg_lineage.json").read_text())
    assert record["format"] == "intentkg-model-lineage/1" and record["origin"] == "refined"
    assert record["base"]["sha256"] == _sha256(smollm2_path()) == record["reference"]["sha256"]
    assert record["base"]["family"]  # read from the GGUF's own metadata
    assert record["reference"]["beta"] > 0
    critic_files = sorted((refined_ws / "critic").rglob("*.safetensors"))
    assert sorted(record["reward"]["plausibility"]["sha256"]) == sorted(_sha256(p) for p in critic_files)
    assert set(record["reward"]) == {"parses", "rules", "plausibility", "typicality"}
    assert len(record["heldout"]["sha256"]) == 64 and record["heldout"]["heldout_labels"] > 0
    assert record["model"]["artifacts"]["merged"] and record["model"]["artifacts"]["adapter"]
    assert ws.manifest("refine").extra["lineage"] == record
    roles = {m.role for m in ws.manifest("refine").models}
    assert {"base", "reference", "critic", "heldout_critic", "refined"} <= roles


def test_report_section_escapes_the_models_answers(refined_ws):
    from intentkg.report.build import build_report

    text = build_report(refined_ws).read_text()
    assert "Refine (GRPO)" in text
    samples = pq.read_table(refined_ws / "refine" / "heldout_samples.parquet").to_pylist()
    assert samples
    for row in samples[:10]:
        assert html.escape(row["answer"], quote=True) in text


def test_refine_eval_prints_before_and_after(refined_ws):
    from typer.testing import CliRunner

    from intentkg.cli.main import cli

    result = CliRunner().invoke(cli, ["refine", "eval", "-w", str(refined_ws)], catch_exceptions=False,
                                env={"INTENTKG_NO_PROGRESS": "1", "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    counts = Workspace(refined_ws).manifest("refine").counts
    assert "before / after" in result.output
    assert f"{counts['before']['reward']:.3f}" in result.output and f"{counts['after']['reward']:.3f}" in result.output


def test_every_evaluated_checkpoint_is_saved_and_the_kept_one_is_among_them(refined_ws):
    import torch
    from safetensors.torch import load_file

    out = refined_ws / "refine"
    guard = Workspace(refined_ws).manifest("refine").extra["guard"]
    steps = [p["step"] for p in guard["curve"]]
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [f"step-{s}" for s in steps]
    kept = load_file(out / "adapter" / "adapter_model.safetensors")
    best = load_file(out / "checkpoints" / f"step-{guard['best']['step']}" / "adapter_model.safetensors")
    assert set(best) == set(kept) and all(torch.equal(best[k], kept[k]) for k in kept)
    # step 0 is the untrained adapter (LoRA's B at zero): exporting it gives the base model itself
    zero = load_file(out / "checkpoints" / "step-0" / "adapter_model.safetensors")
    assert all(v.abs().sum() == 0 for k, v in zero.items() if "lora_B" in k)
