"""Controls for the knowledge lift: is it the knowledge, or only more text?

A lift (with knowledge − without) can come from anything that changes the input: a longer input,
a different pooled embedding, a head that fits the extra dimensions of noise. Two controls keep
everything but the knowledge's *meaning*, and every lift is reported beside them:

- **shuffled**: each pair gets the knowledge text of a pair of *another query* of the same split
  (a permutation of the texts, so coverage and the length distribution are exactly the same);
- **filler**: each pair gets neutral filler words of the same token length as its knowledge text
  (pairs without knowledge stay without).

The primary comparison (``EvalConfig.primary``, declared before the run and stored with the
results) counts only when all three of its paired intervals exclude 0: with − without, with −
shuffled and with − filler (an intersection-union test: each at 95%, no adjustment needed). Every
other comparison (each encoder x head x task, against without and both controls, macro-F1) is a
secondary one: its p-value (two-sided, from the paired bootstrap) is Holm-adjusted over that
family with ``statsmodels.stats.multitest.multipletests``, and its interval is the bootstrap
percentile interval at Holm's step-down level alpha / (m - rank + 1).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

import numpy as np

CONTROLS = ("shuffled", "filler")
ALPHA = 0.05
BASELINES = ("without", *CONTROLS)  # what "with" is compared against
# Neutral words that each are one WordPiece token and say nothing about a product or an intent.
FILLER_WORDS = ("the", "and", "of", "this", "that", "is", "it", "as", "on", "in", "a", "to", "with", "by", "at")


def donor_rows(queries: Sequence[str], splits: Sequence[str], seed: int = 0) -> np.ndarray:
    """``donor[i]``: the pair whose knowledge pair ``i`` gets in the shuffled control.

    Within each split, the split's pairs are listed query by query in a seeded random order and
    every pair takes the text of the pair ``m`` places further on (cyclically), ``m`` = the largest
    number of pairs one query has: so the donor is always another query's pair, and the texts are
    a permutation (every text used once: the same length distribution and coverage)."""
    rng = np.random.default_rng(seed)
    queries, splits = list(queries), list(splits)
    donor = np.arange(len(queries))
    for split in sorted(set(splits)):
        rows = [i for i, s in enumerate(splits) if s == split]
        by_query: dict[str, list[int]] = {}
        for i in rows:
            by_query.setdefault(queries[i], []).append(i)
        if len(by_query) < 2:
            continue  # one query only: nothing to borrow from (the control equals 'with' here)
        names = sorted(by_query)
        order = [i for q in rng.permutation(names) for i in rng.permutation(by_query[q])]
        largest = max(len(v) for v in by_query.values())
        if 2 * largest > len(order):  # one query holds most pairs: shift by half keeps most apart
            largest = len(order) // 2
        for pos, i in enumerate(order):
            donor[i] = order[(pos + largest) % len(order)]
    return donor


def filler_text(n_tokens: int) -> str:
    """``n_tokens`` neutral words (each one WordPiece token); ``""`` for 0."""
    return " ".join(FILLER_WORDS[i % len(FILLER_WORDS)] for i in range(max(0, n_tokens)))


def token_counter(tokenizer) -> Callable[[list[str]], list[int]]:
    """Token counts without special tokens, for a transformers tokenizer."""
    def count(texts: list[str]) -> list[int]:
        unique = sorted(set(texts))
        encoded = tokenizer(unique, add_special_tokens=False)["input_ids"] if unique else []
        lengths = {t: len(ids) for t, ids in zip(unique, encoded)}
        return [lengths[t] if t else 0 for t in texts]
    return count


def shuffled_knowledge(knowledge, queries: Sequence[str], splits: Sequence[str], seed: int = 0):
    """A copy of ``knowledge`` (:class:`~intentkg.eval.inputs.Knowledge`) whose texts are another query's."""
    donor = donor_rows(queries, splits, seed)
    return replace(knowledge, query_text=[knowledge.query_text[d] for d in donor],
                   product_text=[knowledge.product_text[d] for d in donor],
                   pair_text=[knowledge.pair_text[d] for d in donor])


def filler_knowledge(knowledge, count_tokens: Callable[[list[str]], list[int]]):
    """A copy of ``knowledge`` whose every text is filler of the same token length."""
    def fill(texts: list[str]) -> list[str]:
        return [filler_text(n) for n in count_tokens(texts)]
    return replace(knowledge, query_text=fill(knowledge.query_text), product_text=fill(knowledge.product_text),
                   pair_text=fill(knowledge.pair_text))


def control_knowledge(knowledge, queries: Sequence[str], splits: Sequence[str],
                      count_tokens: Callable[[list[str]], list[int]], seed: int = 0) -> dict:
    """``{"shuffled": Knowledge, "filler": Knowledge}`` for the feature builders' "with" setting."""
    return {"shuffled": shuffled_knowledge(knowledge, queries, splits, seed),
            "filler": filler_knowledge(knowledge, count_tokens)}


# -- decisions -------------------------------------------------------------------------------------
def two_sided_p(diffs: np.ndarray) -> float:
    """Bootstrap p-value of 'the difference is 0': twice the smaller tail share (at most 1)."""
    diffs = np.asarray(diffs, dtype=float)
    diffs = diffs[np.isfinite(diffs)]
    if not len(diffs):
        return 1.0
    return float(min(1.0, 2 * min(np.mean(diffs <= 0), np.mean(diffs >= 0))))


def _interval(diffs: np.ndarray, alpha: float) -> list[float]:
    lo, hi = np.nanpercentile(diffs, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return [float(lo), float(hi)]


def _key(result: dict) -> tuple[str, str, str]:
    return result["encoder"], result["head"], result["task"]


def decide(results: list[dict], primary: tuple[str, str, str, str], alpha: float = ALPHA) -> dict:
    """Mark each result's comparisons with intervals, p-values and whether its lift counts.

    Each result carries ``_replicates[baseline][metric]``, the bootstrap differences (with −
    baseline) from :func:`~intentkg.eval.experiment.run_heads`; they are popped here (never
    written). Adds ``result["decision"]`` in place and returns the summary for ``results.json``."""
    from statsmodels.stats.multitest import multipletests

    encoder, head, task, metric = primary
    replicates = {_key(r): r.pop("_replicates", {}) for r in results}
    primary_key = next((k for k in replicates if k == (encoder, head, task)), None)
    family = [(k, b) for k, by in replicates.items() if k != primary_key for b in BASELINES if b in by]
    pvals = [two_sided_p(replicates[k][b]["macro_f1"]) for k, b in family]
    adjusted: dict = {}
    if family:
        _, p_holm, _, _ = multipletests(pvals, alpha=alpha, method="holm")
        ranks = np.argsort(np.argsort(pvals, kind="stable"), kind="stable")  # 0 = smallest p
        for (k, b), p, ph, rank in zip(family, pvals, p_holm, ranks):
            level = alpha / (len(family) - int(rank))
            adjusted[(k, b)] = {"p": p, "p_holm": float(ph), "alpha": level,
                                "ci": _interval(replicates[k][b]["macro_f1"], level)}
    for r in results:
        key = _key(r)
        is_primary = key == primary_key
        comparisons = {}
        for b in (b for b in BASELINES if b in replicates[key]):
            if is_primary:
                diffs = replicates[key][b][metric if metric in replicates[key][b] else "macro_f1"]
                comparisons[b] = {"p": two_sided_p(diffs), "p_holm": None, "alpha": alpha,
                                  "ci": _interval(diffs, alpha)}
            else:
                comparisons[b] = adjusted[(key, b)]
        counts = all(b in comparisons for b in BASELINES) and all(c["ci"][0] > 0 for c in comparisons.values())
        r["decision"] = {"primary": is_primary, "metric": metric if is_primary else "macro_f1",
                         "adjustment": "none (primary, declared before the run)" if is_primary else "holm",
                         "comparisons": comparisons, "counts": counts}
    return {"primary": [*primary_key, metric] if primary_key else None, "family_size": len(family),
            "alpha": alpha,
            "rule": "a lift counts when its intervals against without, shuffled and filler all exclude 0",
            "method": "primary: 95% paired bootstrap intervals (all three must exclude 0); secondaries: every "
                      "other encoder x head x task against each baseline on macro-F1, p-values Holm-adjusted "
                      "(statsmodels multipletests), intervals at Holm's step-down level alpha / (m - rank + 1)"}


def control_inputs(data, knowledge, config) -> dict:
    """The two controls' knowledge for an evaluation's pairs, token lengths counted with the
    tokenizer of the encoder that reads the joint text (the cross-encoder's, else the bi-encoder's)."""
    from intentkg.model_folder import resolve

    spec = config.cross_model if "cross" in config.encoders else config.bi_model
    tokenizer = resolve(spec, what="encoder").tokenizer()
    return control_knowledge(knowledge, data.pairs.column("query").to_pylist(),
                             data.pairs.column("split").to_pylist(), token_counter(tokenizer), seed=0)


def headline_controls(result: dict, metric: str) -> dict:
    """The controls part of a headline: with − control per control, and the decision."""
    out: dict = {}
    if result.get("controls"):
        out["controls"] = {name: {"score": c["score"][metric], "lift": c["lift"][metric]}
                           for name, c in result["controls"].items()}
    if result.get("decision"):
        out["decision"] = result["decision"]
    return out
