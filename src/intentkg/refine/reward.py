"""The refine reward: a weighted sum of the filter's verdicts, the critic's scores and a judge's.

One answer (a numbered list) is parsed by the generate stage's own parser; its first
``max_items`` items are scored. Components, each in [0, 1] per answer:

- ``parses``: 1 when at least one item parses (status ``ok``);
- ``rules``: the share of items that pass the filter's rules (:class:`~intentkg.filter.rules.RuleChecker`:
  echo, restated product, circular, empty, copied worked answer, length, incomplete), are no
  paraphrase of the behaviour's texts (cosine above the operating point's ``max_input_similarity``,
  :func:`~intentkg.filter.similarity.input_similarity`), not unrelated to it, and are not generic
  over the recent answers (:func:`~intentkg.filter.generic_tails.find_generic_tails` over a window);
- ``plausibility`` / ``typicality``: the trained critic's mean score over the items, an item that
  fails a check above counting 0 (an echo is plausible and worthless);
- ``judge``: optional, a RULER-style relative score of each answer within its group
  (:mod:`intentkg.refine.judge_reward`); ``None`` when the judge call failed (left out).

``total`` = sum of weight x component over the components present: the same NaN-skipping sum
TRL's GRPOTrainer forms from the per-component reward functions (:func:`trl_reward_funcs`).
"""

from __future__ import annotations

import math
import tempfile
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from intentkg.filter.config import FilterConfig
from intentkg.filter.copies import supported
from intentkg.filter.generic_tails import find_generic_tails
from intentkg.filter.rules import RuleChecker
from intentkg.filter.similarity import input_similarity, unrelated
from intentkg.filter.text import core, normalize
from intentkg.generate.parse import parse_answer
from intentkg.operating_point import OperatingPoint
from intentkg.product_types import head_noun
from intentkg.refine.config import COMPONENTS, RewardSettings


@dataclass(frozen=True)
class Behaviour:
    """What one prompt asked about: the context every answer to it is judged in."""

    prompt_id: str
    behavior_id: str
    kind: str
    head: str
    relation: str
    left_text: str
    right_text: str
    cue: str = ""
    primer: str = ""
    shown: tuple[str, ...] = ()


@dataclass
class Scored:
    items: list[str]
    components: dict[str, float | None]
    flags: list[list[str]] = field(default_factory=list)  # per item: why it failed (empty: passed)
    critic: list[dict[str, float]] = field(default_factory=list)  # per item: the critic's scores
    total: float = 0.0


class Reward:
    def __init__(self, settings: RewardSettings, filter_config: FilterConfig, point: OperatingPoint,
                 critic, embedder=None, judge=None, max_tokens: int | None = None):
        self.max_tokens = max_tokens  # an answer this many tokens long was cut off (its last item is truncated)
        self.settings, self.point, self.critic, self.embedder, self.judge = settings, point, critic, embedder, judge
        self.filter_config = filter_config
        self.rules = RuleChecker(filter_config.rules)
        self.window: deque[tuple[str, str, str | None, bool]] = deque(maxlen=settings.generic_window)
        self._scratch = tempfile.TemporaryDirectory(prefix="intentkg-refine-")
        self.weights = {c: settings.weight(c) for c in COMPONENTS}
        if judge is None:
            self.weights["judge"] = 0.0

    def close(self) -> None:
        self._scratch.cleanup()

    def total(self, components: dict[str, float | None]) -> float:
        return float(sum(self.weights[c] * v for c, v in components.items()
                         if v is not None and not math.isnan(v) and self.weights.get(c)))

    # -- scoring ---------------------------------------------------------------------------
    def score(self, behaviours: list[Behaviour], texts: list[str], truncated: list[bool] | None = None,
              remember: bool = True) -> list[Scored]:
        """One Scored per answer; ``remember`` adds the answers' tails to the generic-tail window."""
        truncated = truncated or [False] * len(texts)
        parsed = []
        for b, text, cut in zip(behaviours, texts, truncated):
            items = parse_answer(text, primer=b.primer, finish_reason="length" if cut else "stop", cue=b.cue,
                                 max_items=self.settings.max_items)
            parsed.append([i for i in items if i.tail][: self.settings.max_items])
        flat = [(a, item) for a, items in enumerate(parsed) for item in items]
        flags = [self._rule_flags(behaviours[a], item) for a, item in flat]
        self._similarity_flags(behaviours, flat, flags)
        if remember:
            for (a, item), _ in zip(flat, flags):
                b = behaviours[a]
                self.window.append((core(normalize(item.tail)), normalize(b.head), head_noun(b.right_text) or None,
                                    supported(item.tail, b.left_text, b.right_text)))
        generic = self._generic()
        for (a, item), f in zip(flat, flags):
            if core(normalize(item.tail)) in generic:
                f.append("generic")
        critic = self._critic(behaviours, flat)
        out = []
        for a, items in enumerate(parsed):
            rows = [k for k, (owner, _) in enumerate(flat) if owner == a]
            passed = [not flags[k] for k in rows]
            components: dict[str, float | None] = {"parses": float(any(i.status == "ok" for i in items))}
            components["rules"] = float(np.mean(passed)) if rows else 0.0
            for task in ("plausibility", "typicality"):
                values = critic.get(task)
                components[task] = (float(np.mean([values[k] if ok else 0.0 for k, ok in zip(rows, passed)]))
                                    if rows and values is not None else (0.0 if values is not None else None))
            scores = [{task: values[k] for task, values in critic.items()} for k in rows]
            out.append(Scored([i.tail for i in items], components, [flags[k] for k in rows], scores))
        if self.judge is not None and self.weights["judge"]:
            for scored, value in zip(out, self.judge.score(behaviours, [s.items for s in out])):
                scored.components["judge"] = value
        for scored in out:
            scored.total = self.total(scored.components)
        return out

    def _rule_flags(self, b: Behaviour, item) -> list[str]:
        result = self.rules.check_row(item.tail, b.relation, item.status, b.kind, b.left_text, b.right_text,
                                      shown=list(b.shown))
        return list(result.flags)

    def _similarity_flags(self, behaviours: list[Behaviour], flat, flags: list[list[str]]) -> None:
        if self.embedder is None or not flat:
            return
        tails = [item.tail for _, item in flat]
        lefts = [behaviours[a].left_text or "" for a, _ in flat]
        rights = [behaviours[a].right_text or "" for a, _ in flat]
        vectors = self.embedder.encode(tails + lefts + rights)
        n = len(tails)
        index = np.arange(n)
        sims = input_similarity(vectors[:n], index, vectors[n:], [index, index + n])
        limit = self.point.max_input_similarity
        for k, s in enumerate(sims):
            if limit is not None and s == s and s > limit:
                flags[k].append("input_paraphrase")
        for k, _ in unrelated(list(sims), self.filter_config.similarity.min_relatedness):
            flags[k].append("unrelated")

    def _generic(self) -> set[str]:
        config = self.filter_config.generic
        if not config.enabled or len(self.window) < config.min_heads:
            return set()
        import duckdb
        import pyarrow as pa
        import pyarrow.parquet as pq

        keys, heads, groups, named = (list(c) for c in zip(*self.window))
        path = Path(self._scratch.name) / "window.parquet"
        pq.write_table(pa.table({"key": keys, "head_key": heads, "grp": groups, "supported": named}), path)
        with duckdb.connect() as con:
            return set(find_generic_tails(con, path, config))

    def _critic(self, behaviours: list[Behaviour], flat) -> dict[str, list[float] | None]:
        if self.critic is None:
            return {}
        if not flat:
            return {task: [] for task in self.critic.tasks}
        scores = self.critic.score([behaviours[a].head for a, _ in flat], [behaviours[a].relation for a, _ in flat],
                                   [item.tail for _, item in flat])
        return {task: [float(v) for v in values] for task, values in scores.items()}


def trl_reward_funcs(reward: Reward, behaviour_of) -> tuple[list, list[float]]:
    """One TRL reward function per weighted component (TRL logs each) and their weights.

    The first function scores the whole batch once; the others read the same scores.
    ``behaviour_of(prompt_id)`` returns the :class:`Behaviour` of a dataset row.
    """
    cache: dict[str, object] = {"key": None, "scored": None}

    def batch(completions, prompt_id, completion_ids=None):
        texts = [c[-1]["content"] if isinstance(c, list) else str(c) for c in completions]
        key = (tuple(texts), tuple(prompt_id))
        if cache["key"] != key:
            limit = reward.max_tokens
            cut = [limit is not None and len(ids) >= limit for ids in (completion_ids or [[]] * len(texts))]
            cache["scored"] = reward.score([behaviour_of(p) for p in prompt_id], texts, cut)
            cache["key"] = key
        return cache["scored"]

    funcs, weights = [], []
    for name in COMPONENTS:
        if not reward.weights.get(name):
            continue

        def func(prompts, completions, prompt_id, completion_ids=None, _name=name, **_):
            return [s.components.get(_name) for s in batch(completions, prompt_id, completion_ids)]

        func.__name__ = name
        funcs.append(func)
        weights.append(reward.weights[name])
    return funcs, weights
