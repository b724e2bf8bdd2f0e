"""The critic step with a language model: the distilled student's own yes/no answers.

``intentkg filter --critic-student ws/distill/student.gguf`` (config ``critic.student``) scores
plausibility and typicality as the probability that the student answers "yes" to the questions of
:mod:`intentkg.critic.yes_no_prompt` - phrasing 0, about the behaviour sentence the generate
prompts write, with the relation's cue from the workspace's relation schema: word for word a
question its instruction data (``intentkg distill data``) trained it on - read from its next-token
log-probs through llama.cpp (:mod:`intentkg.llm.yes_no`). It has the classifier critic's interface
(``critic_id``, ``tasks``, ``weights``, ``score``), so scores, thresholds (the operating point's
``min_plausibility`` / ``min_typicality`` apply to P(yes)) and the manifest's ``critic`` model work
the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from intentkg.critic.yes_no_prompt import TASKS, judgement_messages
from intentkg.progress import bar


class StudentCritic:
    # the filter passes what the student was asked about in training: the behaviour sentence and its kind
    asks_about_behaviours = True

    def __init__(self, model: str | Path, tasks: Sequence[str] = TASKS, n_threads: int | None = None,
                 n_ctx: int = 1024, relations: dict | None = None):
        """``relations``: name -> :class:`~intentkg.generate.relations.Relation` (default: the packaged schema)."""
        from intentkg.generate.relations import load_schema
        from intentkg.llm.model_files import file_hash
        from intentkg.llm.yes_no import YesNoScorer

        self.scorer = YesNoScorer(model, n_ctx=n_ctx, n_threads=n_threads)
        self.path = self.scorer.path
        self.tasks = sorted(tasks)
        self.weights = [self.path]
        self.critic_id = f"student:{self.path.stem}@{file_hash(self.path)[:12]}"
        self.relations = relations if relations is not None else load_schema().relations

    def score(self, behaviors: Sequence[str], relations: Sequence[str], tails: Sequence[str],
              kinds: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Task -> P(yes) (float64, one per row); identical questions are asked once. ``behaviors``: the
        sentences :func:`intentkg.critic.yes_no_prompt.behavior_text` writes; ``kinds``: each row's
        behaviour kind (the relation's cue depends on it; default search_buy)."""
        kinds = kinds if kinds is not None else ["search_buy"] * len(behaviors)
        keys = [(" ".join((b or "").split()), r, " ".join((t or "").split()), k)
                for b, r, t, k in zip(behaviors, relations, tails, kinds)]
        unique = sorted(set(keys))  # sorted: candidates of one behaviour follow each other and share the KV cache
        out = {}
        with bar("student critic", len(unique) * len(self.tasks), unit="questions") as b:
            for task in self.tasks:
                values = {}
                for behavior, relation, tail, kind in unique:
                    question = judgement_messages(task, behavior, self.relations.get(relation), relation, kind, tail)
                    values[(behavior, relation, tail, kind)] = self.scorer.probability(question)
                    b.advance(1)
                out[task] = np.round(np.array([values[k] for k in keys], dtype=np.float64), 4)
        return out

    def close(self) -> None:
        self.scorer.close()
