"""The critic step with a language model: the distilled student's own yes/no answers.

``intentkg filter --critic-student ws/distill/student.gguf`` (config ``critic.student``) scores
plausibility and typicality as the probability that the student answers "yes" to the questions of
:mod:`intentkg.critic.yes_no_prompt` (phrasing 0, the one its instruction data used first), read
from its next-token log-probs through llama.cpp (:mod:`intentkg.llm.yes_no`). It has the
classifier critic's interface (``critic_id``, ``tasks``, ``weights``, ``score``), so scores,
thresholds (the operating point's ``min_plausibility`` / ``min_typicality`` apply to P(yes)) and
the manifest's ``critic`` model work the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from intentkg.critic.yes_no_prompt import TASKS, judgement_messages
from intentkg.progress import bar


class StudentCritic:
    def __init__(self, model: str | Path, tasks: Sequence[str] = TASKS, n_threads: int | None = None,
                 n_ctx: int = 1024):
        from intentkg.llm.model_files import file_hash
        from intentkg.llm.yes_no import YesNoScorer

        self.scorer = YesNoScorer(model, n_ctx=n_ctx, n_threads=n_threads)
        self.path = self.scorer.path
        self.tasks = sorted(tasks)
        self.weights = [self.path]
        self.critic_id = f"student:{self.path.stem}@{file_hash(self.path)[:12]}"

    def score(self, heads: Sequence[str], relations: Sequence[str], tails: Sequence[str]) -> dict[str, np.ndarray]:
        """Task -> P(yes) (float64, one per row); identical candidates are asked once."""
        keys = [(" ".join((h or "").split()), r, " ".join((t or "").split())) for h, r, t in zip(heads, relations, tails)]
        unique = sorted(set(keys))  # sorted: candidates of one head follow each other and share the KV cache
        out = {}
        with bar("student critic", len(unique) * len(self.tasks), unit="questions") as b:
            for task in self.tasks:
                values = {}
                for key in unique:
                    values[key] = self.scorer.probability(judgement_messages(task, *key))
                    b.advance(1)
                out[task] = np.round(np.array([values[k] for k in keys], dtype=np.float64), 4)
        return out

    def close(self) -> None:
        self.scorer.close()
