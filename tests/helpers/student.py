"""The session's trained student (``helpers.student_fixtures``): its settings, the workspace it learns
from (knowledge the bundled SmolLM2 generated through llama.cpp: its teacher) and the shared held-out
measure; plus :func:`stand_in_gguf` for tests that need a student *file* but no training."""

from __future__ import annotations

from pathlib import Path

# the session's trained student (tests/distill/conftest.py): the smallest real run
TINY = dict(base="smollm2-135m-instruct", max_rows=8, max_steps=2, batch_size=1, max_length=80, lora_r=4,
            lora_alpha=8, target_modules=["q_proj", "v_proj"], save_steps=1, logging_steps=1, threads=2)
# the held-out measure the distil tests share: the yes/no tasks the 3-behaviour workspace holds out
# (it has no held-out generation row), 4 rows each, the bundled SmolLM2 as the teacher
EVAL = dict(tasks=["search_relevance", "co_purchase"], max_rows=4, n_threads=1, split="held-out",
            teacher="smollm2-135m-instruct")

# the filter by its rules alone: no critic, no embedder, no semantic dedup
RULES_ONLY = {"similarity": {"enabled": False}, "dedup": {"semantic": False}, "completeness": {"scorer": "none"}}

GENERATE_YAML = """backend: {name: llama_cpp, model: MODEL, options: {n_threads: 1, parallel: 1, n_ctx: 1024}}
relations: [used_for_function]
sampling: {max_tokens: 32}
selection: {limit: LIMIT}
"""


def generate_config(model: str, limit: int = 3):
    import yaml

    from intentkg.generate.config import GenerateConfig

    text = GENERATE_YAML.replace("MODEL", model).replace("LIMIT", str(limit))
    return GenerateConfig.model_validate(yaml.safe_load(text))


def stand_in_gguf(source: Path, target: Path) -> Path:
    """A copy of a GGUF with a few bytes after its last tensor (llama.cpp reads tensors at their recorded
    offsets and ignores them): the same weights under another file hash, so the stand-in student and its
    teacher are two models, as a trained student and its teacher are."""
    import shutil

    shutil.copyfile(source, target)
    with open(target, "ab") as handle:
        handle.write(b"intentkg stand-in student\0")
    return target


def teacher_workspace(root: Path):
    """The session student's workspace before distillation: the small CSV catalogue of
    :mod:`helpers.kg_workspace` (5 behaviours), knowledge generated for every behaviour by the bundled
    SmolLM2 through llama.cpp (the teacher: its file is the generate stage's generator) and filtered by the
    rules (no critic)."""
    from helpers.kg_workspace import make_workspace

    from intentkg.filter import FilterConfig, run_filter
    from intentkg.generate.stage import run_generate

    ws = make_workspace(root, knowledge=False)
    run_generate(generate_config("smollm2-135m-instruct", limit=5), ws.root)
    run_filter(ws.root, FilterConfig.model_validate(RULES_ONLY), quiet=True)
    return ws


def linked_copy(source: Path, target: Path) -> Path:
    """A copy of a folder whose files are hard links (a student's weights are hundreds of MB): safe to
    change through the workspace, which replaces files (write aside, then rename) and never writes into
    one; do not append to or truncate a file of it."""
    import os
    import shutil

    def link(src, dst):
        try:
            os.link(src, dst)
        except OSError:  # another file system
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link)
    return target
