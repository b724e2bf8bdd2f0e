"""Take each unit's arm from the serving exposure log (``<ws>/serve/exposures``), so a read-out runs on
what a deployment logged: the metrics table then needs only ``unit_id`` and the metric columns.

A unit logged in both arms (the experiment was re-configured while running) cannot be attributed
and is quarantined as ``mixed_arms``; a metrics row whose unit was never exposed is quarantined as
``not_exposed``; an exposed unit without a metrics row is quarantined as ``no_metrics`` (fill the
metrics table with zeros for exposed units that did nothing, if that is what it means).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.compute as pc

from intentkg.errors import InputError
from intentkg.serve.arms import CONTROL, TREATMENT
from intentkg.serve.exposure_log import read_exposures


@dataclass
class ExposureArms:
    folder: str
    experiment_id: str
    arm_of: dict[str, str]
    mixed: set[str] = field(default_factory=set)
    knowledge_share: float = 0.5

    def expected_split(self) -> dict[str, float]:
        return {CONTROL: 1 - self.knowledge_share, TREATMENT: self.knowledge_share}


def exposure_arms(folder: str | Path, experiment_id: str | None = None) -> ExposureArms:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("the exposure log folder does not exist", file=str(folder),
                         hint="pass <workspace>/serve/exposures written by `intentkg serve run --experiment ID`")
    table = read_exposures(folder)
    if table.num_rows == 0:
        raise InputError("the exposure log has no complete part files", file=str(folder))
    ids = sorted(set(table.column("experiment_id").to_pylist()))
    if experiment_id is None:
        if len(ids) > 1:
            raise InputError(f"the exposure log holds {len(ids)} experiments ({', '.join(ids[:10])})",
                             file=str(folder), column="experiment_id", hint="pass --experiment ID")
        experiment_id = ids[0]
    elif experiment_id not in ids:
        raise InputError(f"experiment {experiment_id!r} is not in the exposure log (it has {', '.join(ids[:10])})",
                         file=str(folder), column="experiment_id")
    table = table.filter(pc.equal(table.column("experiment_id"), experiment_id))
    shares = sorted(set(table.column("knowledge_share").to_pylist()))
    if len(shares) > 1:
        raise InputError(f"the knowledge share of experiment {experiment_id!r} changed while it ran ({shares}); "
                         f"its arms are not comparable", file=str(folder), column="knowledge_share",
                         hint="start a new experiment id whenever the share changes")
    arms: dict[str, set[str]] = {}
    for unit, arm in zip(table.column("unit_id").to_pylist(), table.column("arm").to_pylist()):
        arms.setdefault(unit, set()).add(arm)
    mixed = {u for u, a in arms.items() if len(a) > 1}
    return ExposureArms(folder=str(folder), experiment_id=experiment_id,
                        arm_of={u: next(iter(a)) for u, a in arms.items() if len(a) == 1}, mixed=mixed,
                        knowledge_share=shares[0])
