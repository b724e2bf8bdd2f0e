"""The optional judge component: RULER-style relative scores of a group's answers, through any backend.

Each prompt's answers (its GRPO group) are one judge group: the model sees them together and scores
each relative to the others (:mod:`intentkg.judge.prompt`), through the workspace's request cache
(a repeated group costs nothing). Scores are clipped to [0, 1]. A call that fails, an answer that
never parses, or a backend that raises gives ``None`` for that group's answers: counted in
``stats`` and left out of the reward (the other components still count), never a crash.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from intentkg.generate.request_cache import RequestCache
from intentkg.judge.judge import JudgeConfig, judge_groups
from intentkg.judge.prompt import Candidate, Group
from intentkg.llm.protocol import Backend
from intentkg.workspace.fingerprint import short_id


class GroupJudge:
    def __init__(self, backend: Backend, cache: RequestCache, config: JudgeConfig):
        self.backend, self.cache, self.config = backend, cache, config
        self.stats = {"groups": 0, "groups_failed": 0, "calls": 0, "cache_hits": 0, "errors": 0}

    def score(self, behaviours, answers: list[list[str]]) -> list[float | None]:
        """One score per answer (None where its group's judgement failed)."""
        members: dict[str, list[int]] = defaultdict(list)
        for i, b in enumerate(behaviours):
            members[b.prompt_id].append(i)
        groups, index = [], {}
        for prompt_id, rows in members.items():
            b = behaviours[rows[0]]
            text = ["; ".join(answers[i]) or "(no answer)" for i in rows]
            group_id = short_id("refine-judge", prompt_id, *text)
            candidates = tuple(Candidate(f"{group_id}:{k}", b.relation, t) for k, t in enumerate(text))
            groups.append(Group(group_id, b.kind, b.head, candidates))
            index.update({f"{group_id}:{k}": i for k, i in enumerate(rows)})
        out: list[float | None] = [None] * len(answers)
        self.stats["groups"] += len(groups)
        try:
            verdicts, stats = judge_groups(groups, self.backend, self.cache, self.config)
        except Exception as exc:  # a backend that raises instead of returning an error: counted, left out
            self.stats["groups_failed"] += len(groups)
            self.stats["errors"] += 1
            self.stats["last_error"] = f"{type(exc).__name__}: {exc}"[:300]
            return out
        for key in ("calls", "cache_hits", "groups_failed"):
            self.stats[key] += int(stats.get(key, 0))
        for v in verdicts:
            if v.status == "ok" and v.score is not None and v.candidate_id in index:
                out[index[v.candidate_id]] = float(np.clip(v.score, 0.0, 1.0))
        return out
