"""A workspace is a folder with one sub-folder per stage: Parquet tables plus manifest.json.

    ws = Workspace("my-ws")
    with ws.run("ingest", config=cfg, inputs=[Path("examples.parquet")]) as run:
        if not run.skipped:
            run.write("products", products_table)
            run.counts["rows_in"] = 1234

A run whose config, inputs and intentkg version match a complete manifest is skipped. Tables are
written to a hidden temporary folder and moved into place only when the stage completes, so a
crashed stage never leaves half a table where the next stage would read it.
"""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from intentkg import __version__
from intentkg.errors import IntentkgError
from intentkg.schemas import TABLES, conform
from intentkg.workspace.fingerprint import hash_json, sha256_file, sha256_path
from intentkg.workspace.manifest import InputRef, Manifest, ModelRef, OutputRef, read_manifest


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Workspace:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def stage_dir(self, stage: str) -> Path:
        return self.root / stage

    def manifest(self, stage: str) -> Manifest | None:
        return read_manifest(self.stage_dir(stage))

    def stages(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "manifest.json").exists())

    def table_path(self, stage: str, table: str) -> Path:
        return self.stage_dir(stage) / f"{table}.parquet"

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
                found.setdefault(name, []).append(self.stage_dir(stage) / out.path)
        return found

    def input_ref(self, item: str | Path) -> InputRef:
        """Fingerprint an input: a stage name of this workspace, or a file or folder."""
        if isinstance(item, str) and (self.stage_dir(item) / "manifest.json").exists():
            manifest = self.manifest(item)
            assert manifest is not None
            outputs = {k: v.sha256 for k, v in manifest.outputs.items()}
            return InputRef(kind="stage", name=item, sha256=hash_json(outputs))
        path = Path(item)
        if not path.exists():
            raise IntentkgError(f"input {path} does not exist")
        size = path.stat().st_size if path.is_file() else None
        return InputRef(kind="file", name=str(path), sha256=sha256_path(path), bytes=size)

    def run(self, stage: str, *, config: dict[str, Any], inputs: Iterable[str | Path] = (),
            force: bool = False) -> "StageRun":
        return StageRun(self, stage, config=config, inputs=[self.input_ref(i) for i in inputs], force=force)


class StageRun:
    """One execution of a stage: collects outputs, counts and timings, then writes the manifest."""

    def __init__(self, workspace: Workspace, stage: str, *, config: dict[str, Any],
                 inputs: list[InputRef], force: bool):
        self.workspace, self.stage = workspace, stage
        self.config, self.inputs = config, inputs
        self.config_hash = hash_json(config)
        self.fingerprint = hash_json(
            {"config": self.config_hash, "inputs": [i.sha256 for i in inputs], "version": __version__}
        )
        self.folder = workspace.stage_dir(stage)
        self.tmp = self.folder / ".incoming"
        self.counts: dict[str, Any] = {}
        self.timings: dict[str, float] = {}
        self.extra: dict[str, Any] = {}
        self.models: list[ModelRef] = []
        self._writers: dict[str, tuple[pq.ParquetWriter, pa.Schema, list[int]]] = {}
        self._folders: dict[str, int] = {}  # partitioned outputs written by other tools (DuckDB COPY)
        previous = read_manifest(self.folder)
        self.previous = previous
        self.skipped = (
            not force
            and previous is not None
            and previous.status == "complete"
            and previous.fingerprint == self.fingerprint
            and all((self.folder / o.path).exists() for o in previous.outputs.values())
        )
        self._started = 0.0

    # -- context management -------------------------------------------------------------
    def __enter__(self) -> "StageRun":
        self._started = time.perf_counter()
        self._started_at = _now()
        if self.skipped:
            from intentkg.progress import console

            console.print(f"stage {self.stage}: config and inputs unchanged since {self.previous.finished_at}, "
                          f"skipped (use --force to re-run)", highlight=False)
        else:
            if self.tmp.exists():
                shutil.rmtree(self.tmp)
            self.tmp.mkdir(parents=True)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.skipped:
            return
        for writer, _, _ in self._writers.values():
            writer.close()
        manifest = Manifest(
            stage=self.stage, status="complete" if exc is None else "failed",
            fingerprint=self.fingerprint, config=self.config, config_hash=self.config_hash,
            inputs=self.inputs, models=self.models, counts=self.counts, timings=self.timings,
            extra=self.extra, started_at=self._started_at, finished_at=_now(),
            seconds=round(time.perf_counter() - self._started, 3),
        )
        if exc is not None:
            manifest.error = f"{exc_type.__name__}: {exc}"
            shutil.rmtree(self.tmp, ignore_errors=True)
            manifest.write(self.folder)
            return
        for name, (_, _, rows) in self._writers.items():
            src = self.tmp / f"{name}.parquet"
            dst = self.folder / f"{name}.parquet"
            src.replace(dst)
            manifest.outputs[name] = OutputRef(path=dst.name, rows=rows[0], sha256=sha256_file(dst))
        for name, rows in self._folders.items():
            dst = self.folder / name
            if dst.exists():
                shutil.rmtree(dst)
            (self.tmp / name).replace(dst)
            manifest.outputs[name] = OutputRef(path=name, rows=rows, sha256=sha256_path(dst))
        shutil.rmtree(self.tmp, ignore_errors=True)
        manifest.write(self.folder)

    # -- writing ------------------------------------------------------------------------
    def write(self, table: str, data: pa.Table | pa.RecordBatch, schema: pa.Schema | None = None) -> None:
        """Append rows to an output table; may be called once per batch."""
        if self.skipped:
            raise IntentkgError(f"stage {self.stage!r} was skipped; it must not write")
        if table not in self._writers:
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

    def folder_output(self, table: str) -> Path:
        """A folder to write a partitioned table into (e.g. with DuckDB COPY ... PARTITION_BY);
        call :meth:`register_folder` with its row count once written."""
        return self.tmp / table

    def register_folder(self, table: str, rows: int) -> None:
        self._folders[table] = rows

    def ensure(self, table: str, schema: pa.Schema | None = None) -> None:
        """Make sure ``table`` exists in the output even when no rows were written."""
        if table not in self._writers:
            spec_schema = schema or TABLES[table].schema
            self.write(table, spec_schema.empty_table(), schema=spec_schema)

    def add_model(self, role: str, model_id: str, file: str | Path | None = None) -> None:
        digest = sha256_file(file) if file and Path(file).is_file() else None
        self.models.append(ModelRef(role=role, model_id=model_id, file=str(file) if file else None, sha256=digest))

    def time(self, step: str) -> "_Timer":
        return _Timer(self.timings, step)


class _Timer:
    def __init__(self, timings: dict[str, float], step: str):
        self.timings, self.step = timings, step

    def __enter__(self):
        self._t = time.perf_counter()

    def __exit__(self, *exc):
        self.timings[self.step] = round(self.timings.get(self.step, 0.0) + time.perf_counter() - self._t, 3)
