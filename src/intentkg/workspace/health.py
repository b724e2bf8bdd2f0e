"""What ``intentkg status`` says about each stage: is what is on disk what the manifest says?

A stage is ``complete`` when its latest run committed and every output still has the hash recorded
in its manifest. Otherwise it is ``failed`` (the latest run raised), ``interrupted`` (the latest run
was killed before it committed), ``running`` (a run holds the stage's lock now) or ``changed``
(an output is missing, replaced by a link, or edited since the run). A complete stage whose
upstream stage has committed other outputs since is ``stale`` (its next run will not be skipped).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from intentkg.errors import IntentkgError
from intentkg.workspace.manifest import Manifest
from intentkg.workspace.workspace import Workspace
from intentkg.workspace.fingerprint import hash_json


@dataclass
class StageState:
    stage: str
    status: str  # complete | stale | changed | failed | interrupted | running
    manifest: Manifest | None
    changed: list[str] = field(default_factory=list)  # outputs whose hash no longer matches
    stale: list[str] = field(default_factory=list)  # upstream stages that changed since
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "complete"


def stage_state(ws: Workspace, stage: str, verify: bool = True) -> StageState:
    """The state of one stage; ``verify`` hashes every output (False trusts the manifest)."""
    manifest = ws.manifest(stage)
    if manifest is None:
        return StageState(stage, "missing", None, detail="never ran")
    if manifest.status != "complete":
        attempt = ws.attempt(stage)
        detail = manifest.error or ""
        if attempt is not None and attempt.command:
            detail += f" · ran as: {attempt.command}"
        if ws.committed(stage) is not None:
            detail += " · the outputs of the previous complete run are kept but not read"
        return StageState(stage, manifest.status, manifest, detail=detail)
    state = StageState(stage, "complete", manifest)
    if verify:
        try:
            state.changed = ws.changed_outputs(manifest)
        except IntentkgError as exc:
            state.changed, state.detail = ["(a path outside the workspace)"], str(exc)
        if state.changed:
            state.status = "changed"
            state.detail = state.detail or f"{', '.join(state.changed)} changed since the run; re-run with --force"
            return state
    for ref in manifest.inputs:
        if ref.kind != "stage":
            continue
        upstream = ws.committed(ref.name)
        current = hash_json({k: v.sha256 for k, v in upstream.outputs.items()}) if upstream else None
        if current != ref.sha256:
            state.stale.append(ref.name)
    if state.stale:
        state.status = "stale"
        state.detail = f"{', '.join(state.stale)} re-ran since; this stage runs again on its next call"
    return state


def workspace_states(ws: Workspace, verify: bool = True) -> list[StageState]:
    return [stage_state(ws, stage, verify) for stage in ws.stages()]
