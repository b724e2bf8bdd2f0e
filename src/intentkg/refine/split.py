"""What never enters the training loop: held-out behaviours and held-out human labels, chosen by hash.

A behaviour is held out when the hash of its head text (``query -> title`` / ``title + title``, the
same text a labelled candidate records as its head) falls below ``heldout_share``. Its prompts are
never trained on; the guard generates for it. Human labels split three ways:

- ``reward``: what the reward critic was fitted or calibrated on (its ``training_labels.parquet``,
  splits train and dev): never used to judge the reward;
- ``heldout``: labelled candidates of held-out heads, not in ``reward``: the reward's agreement with
  people is measured on them;
- ``guard_critic``: the rest (held-in heads, not in ``reward``): they train the held-out critic, so
  it shares no label with the reward critic nor with the held-out set.

The held-out set's hash (candidate ids and answers) goes into the manifest's lineage.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from intentkg.errors import IntentkgError
from intentkg.workspace.fingerprint import hash_json

QUESTIONS = ("plausibility", "typicality")
FITTED_SPLITS = ("train", "dev")  # the critic's test split only measured it


def is_heldout(head: str, share: float, seed: int = 0) -> bool:
    digest = hashlib.sha256(f"refine-heldout:{seed}:{' '.join(str(head).split())}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


@dataclass
class LabelSplit:
    heldout: list[dict]
    guard_critic: list[dict]
    reward_seen: int
    undetermined: int

    @property
    def heldout_hash(self) -> str:
        return hash_json(sorted((r["candidate_id"], r.get("plausibility"), r.get("typicality"))
                                for r in self.heldout))

    def counts(self) -> dict[str, int]:
        return {"heldout_labels": len(self.heldout), "guard_critic_labels": len(self.guard_critic),
                "reward_critic_labels_excluded": self.reward_seen, "undetermined": self.undetermined}


def critic_fitted_ids(critic_folder: Path) -> set[str]:
    """Candidates the reward critic was fitted or calibrated on (empty when it does not record them)."""
    path = Path(critic_folder) / "training_labels.parquet"
    if not path.exists():
        return set()
    table = pq.read_table(path, columns=["candidate_id", "split"]).to_pylist()
    return {r["candidate_id"] for r in table if r["split"] in FITTED_SPLITS}


def split_labels(labels: list[dict], fitted: set[str], share: float, seed: int = 0) -> LabelSplit:
    heldout, guard, seen, undetermined = [], [], 0, 0
    for row in labels:
        if row["candidate_id"] in fitted:
            seen += 1
            continue
        if row.get("plausibility") is None:
            undetermined += 1
            continue
        (heldout if is_heldout(row["head"], share, seed) else guard).append(row)
    return LabelSplit(heldout, guard, seen, undetermined)


def require_usable(split: LabelSplit, where: str) -> None:
    for name, rows in (("held-out", split.heldout), ("held-out critic", split.guard_critic)):
        answers = {bool(r["plausibility"]) for r in rows}
        if len(rows) < 4 or len(answers) < 2:
            raise IntentkgError(
                f"{where}: only {len(rows)} human-labelled candidates for the {name} set (need 4+ with both yes and "
                f"no plausibility answers; {split.reward_seen} were left out because the reward critic was fitted "
                f"on them). Annotate more (`intentkg annotate sample` then `annotate serve`), or raise "
                f"guard.heldout_share, or switch the guard off (guard.enabled: false)")
