"""What the API does for a request in an experiment: assign the unit's arm, log the exposure, and
say whether to withhold the knowledge (control arm). Used by :func:`intentkg.serve.app.create_app`."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException

from intentkg.pii import scrub
from intentkg.serve.arms import UNIT_ID, Arms, Assignment
from intentkg.serve.exposure_log import ExposureLog

UNIT_HEADER = "X-Intentkg-Unit"
PERSONAL = {"EMAIL", "CARD", "SSN", "PHONE"}  # bare digit runs are allowed: numeric account ids are common


@dataclass
class ServingExperiment:
    arms: Arms
    log: ExposureLog

    def assign(self, unit_id: str | None) -> tuple[str, Assignment] | None:
        """None when the request names no unit (it is not in the experiment); 400 on a malformed id."""
        if unit_id is None or unit_id == "":
            return None
        if not UNIT_ID.match(unit_id):
            raise HTTPException(status_code=400, detail="unit_id must be 1-128 printable ASCII characters "
                                                        "without spaces (a user or session id)")
        personal = set(scrub(unit_id).found) & PERSONAL
        if personal:  # the id is stored in the exposure log: it must not be an e-mail address or the like
            raise HTTPException(status_code=400, detail=f"unit_id looks like personal data ({', '.join(sorted(personal))}); "
                                                        f"send a pseudonymous user or session id")
        return unit_id, self.arms.assign(unit_id)

    def record(self, unit: tuple[str, Assignment], endpoint: str, key: str, outcome: str) -> None:
        unit_id, assignment = unit
        self.log.add(experiment_id=self.arms.experiment_id, unit_id=unit_id, arm=assignment.arm,
                     bucket=assignment.bucket, knowledge_share=self.arms.expected_split()["treatment"], endpoint=endpoint, key=key, outcome=outcome)
