"""One run of a stage: it holds the stage's lock, writes every output aside, and commits them all
with the manifest at the end (or records why it failed). Made by :meth:`Workspace.run`."""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from intentkg import __version__, atomic_file
from intentkg.errors import IntentkgError
from intentkg.schemas import TABLES, conform
from intentkg.workspace import commit as commits
from intentkg.workspace.attempt import Attempt, StageLock, clear_attempt
from intentkg.workspace.fingerprint import hash_json, sha256_file, sha256_path
from intentkg.workspace.manifest import MANIFEST_NAME, InputRef, Manifest, ModelRef, OutputRef, read_manifest
from intentkg.workspace.paths import portable_config, remove


class StageHost(Protocol):
    """What a stage run needs from the workspace that starts it (:class:`~intentkg.workspace.Workspace`
    is the one implementation; ``run.workspace`` is that object). Declared here so this module does
    not import the workspace module back."""

    root: Path

    def stage_dir(self, stage: str) -> Path: ...

    def stored(self, path: str | Path) -> str: ...

    def changed_outputs(self, manifest: Manifest) -> list[str]: ...


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _readable_manifest(folder: Path) -> Manifest | None:
    """The previous manifest; an unreadable one counts as none (this run writes a good one)."""
    try:
        return read_manifest(folder)
    except IntentkgError:
        return None


def check_name(name: str) -> None:
    if not name or "/" in name or "\\" in name or name.startswith(".") or name == MANIFEST_NAME:
        raise IntentkgError(f"output name {name!r}: use a plain file name inside the stage folder")


def fresh_folder(path: Path) -> Path:
    if os.path.lexists(path):
        remove(path)
    path.mkdir(parents=True)
    return path


class StageRun:
    """One execution of a stage: collects outputs, counts and timings, then commits them with the manifest."""

    def __init__(self, workspace: StageHost, stage: str, *, config: dict[str, Any],
                 inputs: list[InputRef], force: bool):
        self.workspace, self.stage = workspace, stage
        self.config, self.workspace_paths = portable_config(workspace.root, config)
        self.inputs = inputs
        self.config_hash = hash_json(self.config)
        self.fingerprint = hash_json(
            {"config": self.config_hash, "inputs": [i.sha256 for i in inputs], "version": __version__}
        )
        self.force = force
        self.folder = workspace.stage_dir(stage)
        self.tmp = self.folder / commits.INCOMING
        self.counts: dict[str, Any] = {}
        self.timings: dict[str, float] = {}
        self.extra: dict[str, Any] = {}
        self.models: list[ModelRef] = []
        self._writers: dict[str, tuple[pq.ParquetWriter, pa.Schema, list[int]]] = {}
        self._outputs: dict[str, int | None] = {}  # files and folders written into tmp by the stage
        self.previous: Manifest | None = _readable_manifest(self.folder)
        self.skipped = False
        self._lock = StageLock(self.folder, stage)
        self._started = 0.0

    # -- context management -------------------------------------------------------------
    def __enter__(self) -> "StageRun":
        self._lock.acquire()
        try:
            self._started = time.perf_counter()
            self._started_at = now()
            commits.complete(self.folder, self.stage)  # a commit a killed run left half done
            self.previous = _readable_manifest(self.folder)
            self.skipped = not self.force and self._unchanged()
            if self.skipped:
                from intentkg.progress import console

                clear_attempt(self.folder)  # the outputs in place are what this run asks for
                console.print(f"stage {self.stage}: config and inputs unchanged since {self.previous.finished_at}, "
                              f"skipped (use --force to re-run)", highlight=False)
            else:
                Attempt.start(self.fingerprint, self.config, self.config_hash, self._started_at).write(self.folder)
                fresh_folder(self.tmp)
        except BaseException:
            self._lock.release()
            raise
        return self

    def _unchanged(self) -> bool:
        previous = self.previous
        if previous is None or previous.status != "complete" or previous.fingerprint != self.fingerprint:
            return False
        try:
            changed = self.workspace.changed_outputs(previous)
        except IntentkgError:
            changed = ["(an output outside the workspace)"]
        if changed:
            from intentkg.progress import console

            console.print(f"stage {self.stage}: {', '.join(changed)} changed since the last run; running again",
                          highlight=False)
        return not changed

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if not self.skipped:
                self._finish(exc_type, exc)
        finally:
            self._lock.release()

    def _finish(self, exc_type, exc) -> None:
        for writer, _, _ in self._writers.values():
            writer.close()
        finished = now()
        if exc is not None:
            attempt = Attempt.start(self.fingerprint, self.config, self.config_hash, self._started_at)
            attempt.status, attempt.finished_at, attempt.error = "failed", finished, f"{exc_type.__name__}: {exc}"
            attempt.write(self.folder)
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        manifest = Manifest(
            stage=self.stage, status="complete", fingerprint=self.fingerprint, config=self.config,
            config_hash=self.config_hash, inputs=self.inputs, models=self.models, counts=self.counts,
            timings=self.timings, extra=self.extra, workspace_paths=self.workspace_paths,
            started_at=self._started_at, finished_at=finished,
            seconds=round(time.perf_counter() - self._started, 3),
        )
        names = []
        for name, (_, _, rows) in self._writers.items():
            path = self.tmp / f"{name}.parquet"
            manifest.outputs[name] = OutputRef(path=path.name, rows=rows[0], sha256=sha256_file(path))
            names.append(path.name)
        for name, rows in self._outputs.items():
            path = self.tmp / name
            if not os.path.lexists(path):
                if rows is None:
                    raise IntentkgError(f"stage {self.stage!r}: output {name!r} was registered but never written")
                path.mkdir(parents=True)  # a partitioned table with no rows is an empty folder
            manifest.outputs[name] = OutputRef(path=name, rows=rows, sha256=sha256_path(path))
            names.append(name)
        manifest.write(self.tmp)
        previous = [o.path for o in self.previous.outputs.values()] if self.previous else []
        commits.commit(self.folder, self.stage, names, previous)

    # -- writing ------------------------------------------------------------------------
    def _writable(self) -> None:
        if self.skipped:
            raise IntentkgError(f"stage {self.stage!r} was skipped; it must not write")

    def write(self, table: str, data: pa.Table | pa.RecordBatch, schema: pa.Schema | None = None) -> None:
        """Append rows to an output table; may be called once per batch."""
        self._writable()
        if table not in self._writers:
            commits.kill_point(self.stage, f"write:{table}")
            schema = schema or (TABLES[table].schema if table in TABLES else data.schema)
            path = self.tmp / f"{table}.parquet"
            writer = pq.ParquetWriter(path, schema, compression="zstd")
            self._writers[table] = (writer, schema, [0])
        writer, schema, rows = self._writers[table]
        if isinstance(data, pa.RecordBatch):
            data = pa.Table.from_batches([data])
        if data.num_rows:
            if table in TABLES and schema == TABLES[table].schema:
                data = conform(data, table)  # fills optional columns, checks required ones
            writer.write_table(data.select(schema.names).cast(schema))
            rows[0] += data.num_rows

    def close_table(self, table: str) -> Path:
        """Finish writing ``table`` now, to read it back later in the run; returns the file."""
        self._writers[table][0].close()
        return self.tmp / f"{table}.parquet"

    def write_bytes(self, name: str, data: bytes) -> Path:
        """An output file that is not a table (``results.json``, ``agreement.json``)."""
        self._writable()
        check_name(name)
        self._outputs[name] = None
        return atomic_file.write_bytes(self.tmp / name, data)

    def write_text(self, name: str, text: str) -> Path:
        return self.write_bytes(name, text.encode("utf-8"))

    def write_json(self, name: str, value: Any) -> Path:
        return self.write_text(name, json.dumps(value, indent=2, ensure_ascii=False, default=float))

    def output(self, name: str) -> Path:
        """A path (file or folder) for an output another tool writes (a model folder, DuckDB COPY);
        call :meth:`register` once it is written."""
        self._writable()
        check_name(name)
        return self.tmp / name

    def register(self, name: str, rows: int | None = None) -> None:
        """Record ``output(name)`` as an output (``rows`` for a partitioned table, None otherwise)."""
        check_name(name)
        self._outputs[name] = rows

    def folder_output(self, table: str) -> Path:
        """A folder to write a partitioned table into (e.g. with DuckDB COPY ... PARTITION_BY);
        call :meth:`register_folder` with its row count once written."""
        return self.output(table)

    def register_folder(self, table: str, rows: int) -> None:
        self.register(table, rows)

    def ensure(self, table: str, schema: pa.Schema | None = None) -> None:
        """Make sure ``table`` exists in the output even when no rows were written."""
        if table not in self._writers:
            spec_schema = schema or TABLES[table].schema
            self.write(table, spec_schema.empty_table(), schema=spec_schema)

    def add_model(self, role: str, model_id: str, file: str | Path | None = None) -> None:
        digest = sha256_file(file) if file and Path(file).is_file() else None
        recorded = None
        if file:
            path = Path(file)
            if path.is_relative_to(self.tmp):  # an output of this run: recorded where it will be
                path = self.folder / path.relative_to(self.tmp)
            recorded = path.relative_to(self.workspace.root).as_posix() \
                if path.is_relative_to(self.workspace.root) else self.workspace.stored(path)
        self.models.append(ModelRef(role=role, model_id=model_id, file=recorded, sha256=digest))

    def time(self, step: str) -> "_Timer":
        return _Timer(self.timings, step, self.stage)


class _Timer:
    def __init__(self, timings: dict[str, float], step: str, stage: str = ""):
        self.timings, self.step, self.stage = timings, step, stage

    def __enter__(self):
        commits.kill_point(self.stage, f"step:{self.step}")
        self._t = time.perf_counter()

    def __exit__(self, *exc):
        self.timings[self.step] = round(self.timings.get(self.step, 0.0) + time.perf_counter() - self._t, 3)
