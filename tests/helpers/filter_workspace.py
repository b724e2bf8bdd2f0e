"""Test helpers for the filter stage: a tiny real critic and a small filtered workspace, built once."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "|", "used", "for", "event", "function", "audience",
         "camping", "tent", "winter", "baby", "warm", "they", "like", "it", "the", "a", "and", "because",
         "keeping", "night", "home", "use", "everyday", "walk", "dog", "play", "tennis", "with", "in"]


def make_tiny_critic(folder: Path, layout: str = "multi_label", seed: int = 0) -> Path:
    """A real (untrained) BERT sequence classifier saved with safetensors in one of the three layouts of
    docs/filter.md: ``multi_label`` (one model, labels plausibility + typicality), ``two_heads``
    (plausibility/ and typicality/ sub-folders, 2 labels each) or ``single`` (one 1-logit model)."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    torch.manual_seed(seed)
    tokenizer = BertTokenizerFast(vocab={w: i for i, w in enumerate(VOCAB)})

    def save(path: Path, **labels) -> None:
        config = BertConfig(vocab_size=len(VOCAB), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                            intermediate_size=32, max_position_embeddings=128, initializer_range=0.8, **labels)
        model = BertForSequenceClassification(config)
        model.save_pretrained(path, safe_serialization=True)
        tokenizer.save_pretrained(path)

    folder.mkdir(parents=True, exist_ok=True)
    if layout == "multi_label":
        save(folder, num_labels=2, problem_type="multi_label_classification",
             id2label={0: "plausibility", 1: "typicality"}, label2id={"plausibility": 0, "typicality": 1})
    elif layout == "two_heads":
        for task in ("plausibility", "typicality"):
            save(folder / task, num_labels=2, id2label={0: "no", 1: "yes"}, label2id={"no": 0, "yes": 1})
    elif layout == "single":
        save(folder, num_labels=1)
    else:
        raise ValueError(layout)
    (folder / "intentkg_critic.json").write_text(json.dumps({"name": f"tiny-{layout}", "max_length": 64}))
    return folder


@lru_cache(maxsize=None)
def filtered_workspace(base: str) -> Path:
    """A synthetic workspace (600 candidates, some without log-probs) run through `run_filter` with the
    bundled MiniLM, the bundled Gemma scorer for the rows without log-probs, and a tiny critic."""
    from intentkg.filter import FilterConfig, run_filter
    from intentkg.filter.synthetic import write_synthetic_workspace

    root = Path(base) / "ws"
    ws = write_synthetic_workspace(root, 600, seed=1, logprob_share=0.99)
    critic = make_tiny_critic(Path(base) / "critic", "two_heads")
    config = FilterConfig.model_validate({
        "critic": {"path": str(critic)},
        "generic": {"min_heads": 5, "min_groups": 3, "min_entropy_bits": 1.5},
        "completeness": {"n_threads": 2},
    })
    run_filter(ws, config, quiet=True)
    return root
