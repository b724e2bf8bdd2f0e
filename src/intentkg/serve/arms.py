"""Experiment arms for the serving API: a user or session id is hashed, with the experiment id as
salt, into one of 10,000 buckets; buckets below ``knowledge_share`` get the knowledge (arm
``treatment``), the rest get none (arm ``control``). The same id always lands in the same arm of the
same experiment, a new experiment id reshuffles everyone, and no state is kept.

    arms = Arms("kg-launch-1", knowledge_share=0.1)
    arms.assign("session-42")   # Assignment(arm='control', bucket=7311, knowledge=False)

Requests name their unit with ``?unit_id=...`` or the ``X-Intentkg-Unit`` header; requests without
one are not in the experiment (knowledge on, ``"arm": null``, not logged).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

BUCKETS = 10_000
CONTROL, TREATMENT = "control", "treatment"
UNIT_ID = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII without spaces, as ids are


@dataclass(frozen=True)
class Assignment:
    arm: str
    bucket: int

    @property
    def knowledge(self) -> bool:
        return self.arm == TREATMENT


@dataclass(frozen=True)
class Arms:
    experiment_id: str
    knowledge_share: float

    def __post_init__(self) -> None:
        if not 0 <= self.knowledge_share <= 1:
            raise ValueError(f"knowledge_share must be within 0..1, got {self.knowledge_share}")
        if not UNIT_ID.match(self.experiment_id):
            raise ValueError("experiment_id must be 1-128 printable characters without spaces")

    def bucket(self, unit_id: str) -> int:
        digest = hashlib.sha256(f"{self.experiment_id}\x1f{unit_id}".encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % BUCKETS

    def assign(self, unit_id: str) -> Assignment:
        bucket = self.bucket(unit_id)
        return Assignment(TREATMENT if bucket < round(self.knowledge_share * BUCKETS) else CONTROL, bucket)

    def expected_split(self) -> dict[str, float]:
        share = round(self.knowledge_share * BUCKETS) / BUCKETS
        return {CONTROL: 1 - share, TREATMENT: share}
