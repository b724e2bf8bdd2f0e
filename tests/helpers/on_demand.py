"""An on-demand knowledge config (generate + filter) with the bundled Gemma through llama.cpp, greedy."""

from __future__ import annotations


def on_demand_yaml(relations: list[str] | None, max_tokens: int = 32, n_threads: int | None = None) -> str:
    """Every candidate the bundled model writes survives the thresholds (none are set); the filter
    uses the generation's own log-probs, no embedder and no semantic dedup (no model beyond Gemma).
    ``relations=None``: no relations line (the caller's stage picks them, e.g. the catalogue's)."""
    options = f", options: {{n_threads: {n_threads}}}" if n_threads else ""
    chosen = f"\n  relations: [{', '.join(relations)}]" if relations is not None else ""
    return f"""
generate:
  backend: {{name: llama_cpp, model: gemma3-270m{options}}}{chosen}
  sampling: {{temperature: 0.0, max_tokens: {max_tokens}, seed: 0}}
filter:
  completeness: {{scorer: generation}}
  similarity: {{enabled: false}}
  dedup: {{semantic: false}}
  thresholds: {{min_completeness: null, max_input_similarity: null, min_plausibility: null}}
"""
