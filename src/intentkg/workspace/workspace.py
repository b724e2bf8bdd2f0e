"""A workspace is a folder with one sub-folder per stage: its outputs plus manifest.json.

    ws = Workspace("my-ws")
    with ws.run("ingest", config=cfg, inputs=[Path("examples.parquet")]) as run:
        if not run.skipped:
            run.write("products", products_table)      # a table, batch by batch
            run.write_json("summary.json", {...})       # any other output goes through the run too
            run.counts["rows_in"] = 1234

A run holds the stage's lock (a second concurrent run stops with a clear message), writes every
output aside and commits them all at once with the manifest (:mod:`intentkg.workspace.commit`).
A run is skipped when its config, inputs and intentkg version match the committed manifest and
every output still has the hash recorded there. A stage whose last run failed or was interrupted
is not read by any other stage (the error says how to re-run it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from intentkg import atomic_file
from intentkg.errors import IntentkgError
from intentkg.workspace import commit as commits
from intentkg.workspace.attempt import Attempt, StageLock, is_locked, read_attempt
from intentkg.workspace.fingerprint import hash_json, sha256_file, sha256_path
from intentkg.workspace.manifest import MANIFEST_NAME, InputRef, Manifest, OutputRef, read_manifest
from intentkg.workspace.paths import anchored_config, confined, to_stored
from intentkg.workspace.stage_run import StageRun, check_name, fresh_folder

RECOVERY_WAIT_S = 60.0  # how long a reader waits for a commit in progress to finish
RERUN = {"ingest": "intentkg ingest ... -w {ws}", "generate": "intentkg generate -w {ws}",
         "filter": "intentkg filter -w {ws}", "kg": "intentkg build -w {ws}",
         "critic": "intentkg train-critic -w {ws}", "annotate": "intentkg annotate export -w {ws}",
         "sample": "intentkg annotate sample -w {ws}", "judge": "intentkg judge -w {ws}",
         "eval-esci": "intentkg eval esci -w {ws}", "catalogue": "intentkg catalogue -w {ws}",
         "distill-data": "intentkg distill data -w {ws}", "distill": "intentkg distill train -w {ws} --base ..."}


class Workspace:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    # -- where things are -------------------------------------------------------------
    def stage_dir(self, stage: str) -> Path:
        return self.root / stage

    def stored(self, path: str | Path) -> str:
        """How ``path`` is recorded: relative to the workspace root when inside it."""
        return to_stored(self.root, path)

    def stages(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir() if not p.name.startswith(".") and p.is_dir()
                      and any((p / name).exists() for name in (MANIFEST_NAME, ".attempt.json", commits.JOURNAL)))

    # -- manifests and the state of a stage --------------------------------------------
    def recover(self, stage: str) -> bool:
        """Finish a commit that a killed process left half done (waits for one in progress)."""
        folder = self.stage_dir(stage)
        if not commits.pending(folder):
            return False
        with StageLock(folder, stage).acquire(wait=RECOVERY_WAIT_S):
            return commits.complete(folder, stage)

    def committed(self, stage: str) -> Manifest | None:
        """The manifest of the outputs in place (whatever happened to later attempts)."""
        self.recover(stage)
        return read_manifest(self.stage_dir(stage))

    def attempt(self, stage: str) -> Attempt | None:
        """The latest run that did not complete (running, failed or interrupted), if any."""
        return read_attempt(self.stage_dir(stage))

    def manifest(self, stage: str) -> Manifest | None:
        """The committed manifest; its ``status`` is ``failed``/``interrupted``/``running`` (with
        ``error``) when the latest run of the stage did not complete."""
        manifest = self.committed(stage)
        attempt = self.attempt(stage)
        if attempt is None:
            return manifest
        status = self._attempt_status(stage, attempt)
        if manifest is None:
            return Manifest(stage=stage, status=status, fingerprint=attempt.fingerprint, config=attempt.config,
                            config_hash=attempt.config_hash, started_at=attempt.started_at,
                            finished_at=attempt.finished_at or "", error=attempt.error)
        manifest.status, manifest.error = status, attempt.error or f"{status} run started {attempt.started_at}"
        return manifest

    def _attempt_status(self, stage: str, attempt: Attempt) -> str:
        if attempt.status == "failed":
            return "failed"
        return "running" if is_locked(self.stage_dir(stage)) else "interrupted"

    def require(self, stage: str) -> None:
        """Refuse to read a stage whose latest run failed or was interrupted. While a run is in progress
        the outputs of the previous one are read: they stay whole until the new ones replace them all."""
        self.recover(stage)
        attempt = self.attempt(stage)
        if attempt is None:
            legacy = read_manifest(self.stage_dir(stage))  # a failed manifest written by older intentkg
            if legacy is not None and legacy.status != "complete":
                attempt = Attempt("failed", legacy.fingerprint, legacy.config, legacy.config_hash,
                                  legacy.started_at, -1, "", error=legacy.error or legacy.status)
            else:
                return
        status = self._attempt_status(stage, attempt)
        if status == "running":
            return
        how = attempt.command or RERUN.get(stage, f"the command that writes stage {stage!r}").format(ws=self.root)
        why = f"failed ({attempt.error})" if status == "failed" else \
            f"was interrupted (started {attempt.started_at}, never finished)"
        raise IntentkgError(f"stage {stage!r} of workspace {self.root}: its last run {why}, so its outputs are not "
                            f"read. Re-run it: `{how}` (or run it with its previous settings to keep those)")

    # -- reading outputs --------------------------------------------------------------
    def output_path(self, stage: str, name: str) -> Path:
        """The path of output ``name`` as the manifest records it, confined to the workspace."""
        manifest = self.committed(stage)
        recorded = manifest.outputs[name].path if manifest and name in manifest.outputs else name
        return confined(self.root, self.stage_dir(stage), recorded, f"stage {stage!r} output {name!r}")

    def table_path(self, stage: str, table: str) -> Path:
        """Where table ``table`` of ``stage`` is; refuses a stage whose latest run did not complete."""
        self.require(stage)
        manifest = read_manifest(self.stage_dir(stage))
        if manifest is not None and table in manifest.outputs:
            return self.output_path(stage, table)
        return self.stage_dir(stage) / f"{table}.parquet"

    def read_dir(self, stage: str) -> Path:
        """The folder of a stage's outputs, for readers that open several of them (the KG)."""
        self.require(stage)
        return self.stage_dir(stage)

    def read(self, stage: str, table: str) -> pa.Table:
        path = self.table_path(stage, table)
        if not path.exists():
            raise IntentkgError(
                f"workspace {self.root}: stage {stage!r} has no table {table!r} ({path} is missing); "
                f"run `intentkg {stage}` first"
            )
        return pq.read_table(path)

    def tables(self) -> dict[str, list[Path]]:
        """Every table name in the workspace and the files that hold it (one per stage)."""
        found: dict[str, list[Path]] = {}
        for stage in self.stages():
            manifest = self.manifest(stage)
            if manifest is None or manifest.status != "complete":
                continue
            for name, out in manifest.outputs.items():
                if out.rows is not None:
                    found.setdefault(name, []).append(self.output_path(stage, name))
        return found

    def changed_outputs(self, manifest: Manifest) -> list[str]:
        """Outputs of a committed manifest that are missing or no longer have their recorded hash."""
        changed = []
        for name, out in manifest.outputs.items():
            path = confined(self.root, self.stage_dir(manifest.stage), out.path, f"stage {manifest.stage!r}")
            if not os.path.lexists(path) or path.is_symlink() or sha256_path(path) != out.sha256:
                changed.append(name)
        return changed

    def stage_config(self, stage: str) -> dict[str, Any]:
        """The config a stage ran with, its workspace paths anchored where the workspace is now."""
        manifest = self.committed(stage)
        if manifest is None:
            return {}
        return anchored_config(self.root, manifest.config, manifest.workspace_paths)

    # -- inputs -----------------------------------------------------------------------
    def input_ref(self, item: str | Path) -> InputRef:
        """Fingerprint an input: a stage name of this workspace, or a file or folder."""
        if isinstance(item, str) and (self.stage_dir(item) / MANIFEST_NAME).exists():
            self.require(item)
            manifest = self.committed(item)
            assert manifest is not None
            changed = self.changed_outputs(manifest)
            if changed:
                raise IntentkgError(
                    f"stage {item!r} of workspace {self.root}: {', '.join(changed)} changed since the stage wrote "
                    f"{'it' if len(changed) == 1 else 'them'}; re-run it with --force "
                    f"(`{RERUN.get(item, 'intentkg ' + item).format(ws=self.root)} --force`)")
            outputs = {k: v.sha256 for k, v in manifest.outputs.items()}
            return InputRef(kind="stage", name=item, sha256=hash_json(outputs))
        if isinstance(item, str) and self.attempt(item) is not None:
            self.require(item)  # a first run that failed: say so rather than "does not exist"
        path = Path(item)
        if not path.exists():
            raise IntentkgError(f"input {path} does not exist")
        size = path.stat().st_size if path.is_file() else None
        return InputRef(kind="file", name=self.stored(path), sha256=sha256_path(path), bytes=size)

    # -- writing ----------------------------------------------------------------------
    def run(self, stage: str, *, config: dict[str, Any], inputs: Iterable[str | Path] = (),
            force: bool = False) -> "StageRun":
        return StageRun(self, stage, config=config, inputs=[self.input_ref(i) for i in inputs], force=force)

    def amend(self, stage: str, files: dict[str, bytes | str], extra: dict[str, Any] | None = None) -> Manifest:
        """Replace small file outputs of a committed stage without re-running it (the filter's saved
        operating point): same lock, same atomic commit, hashes recorded in the manifest."""
        folder = self.stage_dir(stage)
        self.require(stage)
        with StageLock(folder, stage).acquire(wait=RECOVERY_WAIT_S):
            commits.complete(folder, stage)
            manifest = read_manifest(folder)
            if manifest is None:
                raise IntentkgError(f"stage {stage!r} of workspace {self.root} has not run yet; run it first")
            incoming = fresh_folder(folder / commits.INCOMING)
            for name, data in files.items():
                check_name(name)
                atomic_file.write_bytes(incoming / name, data.encode() if isinstance(data, str) else data)
                manifest.outputs[name] = OutputRef(path=name, rows=None, sha256=sha256_file(incoming / name))
            manifest.extra.update(extra or {})
            manifest.write(incoming)
            commits.commit(folder, stage, list(files), [], finishes_run=False)
            return manifest
