"""Test helpers for the filter stage: a critic trained by `train-critic`, a tiny untrained critic for the
loader's layout tests, and a small filtered workspace, each built once per test session."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "|", "used", "for", "event", "function", "audience",
         "camping", "tent", "winter", "baby", "warm", "they", "like", "it", "the", "a", "and", "because",
         "keeping", "night", "home", "use", "everyday", "walk", "dog", "play", "tennis", "with", "in"]


ANNOTATED_ROWS = 300  # of the bundled demo annotations: 150 candidates x 2 annotators


@lru_cache(maxsize=None)
def trained_critic_workspace(base: str) -> Path:
    """A workspace whose ``critic/`` folder is what `intentkg train-critic` writes: the bundled MiniLM
    fine-tuned on a slice of the bundled demo annotations (1 epoch, 32 tokens; about a minute on 2 busy
    cores). Pass the same ``base`` (``trained_critic_base``) everywhere so it is trained once."""
    from intentkg.annotate.formats import import_file
    from intentkg.annotate.formats.records import load_titles
    from intentkg.annotate.store import Store
    from intentkg.critic.stage import CriticConfig, run_train_critic
    from intentkg.critic.train import TrainConfig
    from intentkg.demo_data import demo_path

    root = Path(base) / "ws"
    subset = Path(base) / "subset.jsonl"
    subset.parent.mkdir(parents=True, exist_ok=True)
    subset.write_text("".join(demo_path("annotated_candidates.jsonl").read_text().splitlines(True)[:ANNOTATED_ROWS]))
    import_file(Store.for_workspace(root), subset, titles=load_titles(demo_path("products.csv")))
    run_train_critic(root, CriticConfig(train=TrainConfig(epochs=1, max_length=32, batch_size=16)))
    return root


def trained_critic_base(tmp_path_factory) -> str:
    """The one per-session folder of :func:`trained_critic_workspace`."""
    return str(tmp_path_factory.getbasetemp() / "trained-critic")


def make_tiny_critic(folder: Path, layout: str = "multi_label", seed: int = 0) -> Path:
    """For the loader's layout and damage tests only (scores are meaningless): a real (untrained) BERT sequence classifier saved with safetensors in one of the three layouts of
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
    bundled MiniLM, the bundled Gemma scorer for the rows without log-probs, and the critic train-critic
    trained on the demo annotations (``base``'s sibling ``trained-critic``, shared with tests/critic)."""
    from intentkg.filter import FilterConfig, run_filter
    from intentkg.filter.synthetic import write_synthetic_workspace

    root = Path(base) / "ws"
    ws = write_synthetic_workspace(root, 600, seed=1, logprob_share=0.99)
    critic = trained_critic_workspace(str(Path(base).parent / "trained-critic")) / "critic"
    config = FilterConfig.model_validate({
        "critic": {"path": str(critic)},
        "generic": {"min_heads": 5, "min_groups": 3, "min_entropy_bits": 1.5},
        "completeness": {"n_threads": 2},
    })
    run_filter(ws, config, quiet=True)
    return root
