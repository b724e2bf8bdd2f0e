"""A workspace refine can run on: behaviours (synthetic, real titles), a critic trained by train-critic on
demo annotations, and more demo annotations the critic never saw (the guard's held-out labels and the
held-out critic's training labels). Built once per test session from the shared trained critic."""

from __future__ import annotations

import shutil
from functools import lru_cache
from pathlib import Path

from helpers.filter_workspace import ANNOTATED_ROWS, trained_critic_workspace

# demo annotation rows after the critic's: 80 more candidates, 2 annotators each (the guard's held-out labels
# and the held-out critic's training labels; 4+ of each are needed, fewer rows make the smoke run faster)
EXTRA_ROWS = 160


@lru_cache(maxsize=None)
def refine_workspace(base: str, critic_base: str) -> Path:
    from intentkg.annotate.formats import import_file
    from intentkg.annotate.formats.records import load_titles
    from intentkg.annotate.store import Store
    from intentkg.demo_data import demo_path
    from intentkg.filter.synthetic import write_synthetic_workspace

    source = trained_critic_workspace(critic_base)
    root = Path(base) / "ws"
    shutil.copytree(source, root)
    write_synthetic_workspace(root, 400, seed=3)
    lines = demo_path("annotated_candidates.jsonl").read_text().splitlines(True)
    extra = Path(base) / "more.jsonl"
    extra.write_text("".join(lines[ANNOTATED_ROWS:ANNOTATED_ROWS + EXTRA_ROWS]))
    import_file(Store.for_workspace(root), extra, titles=load_titles(demo_path("products.csv")))
    return root


def tiny_config(**changes):
    """Smoke-sized settings: a few prompts, 2 answers of 16 tokens, an evaluation every step, the GGUF export."""
    from intentkg.refine.config import RefineConfig

    data = {"behaviors": 4, "export_gguf": True,
            "guard": {"behaviors": 2, "every": 1, "patience": 2, "critic_epochs": 1},
            "train": {"steps": 2, "num_generations": 2, "max_completion_length": 16, "learning_rate": 1e-3}}
    for key, value in changes.items():
        if isinstance(value, dict):
            data[key] = {**data.get(key, {}), **value}
        else:
            data[key] = value
    return RefineConfig.model_validate(data)
