"""The student's lineage: what it was distilled from, recorded when it is trained, walked on demand.

``record_student(ws)`` runs after ``intentkg distill train`` (and after each self-imitation round)
and writes ``<ws>/<train stage>/intentkg_lineage.json`` into the stage through the workspace's
atomic commit (:meth:`Workspace.amend`), with the same record in the manifest's
``extra.lineage``. It names

- the student's artifacts (GGUF, merged safetensors, adapter) by the hash backends report;
- its ``base`` (id, file, sha256, family from the file's own metadata);
- its ``teacher``: the generator of the knowledge it was trained on (the generate stage the
  training data read; a student of an earlier round when rounds ran);
- the training ``data`` snapshot (hash of the data stage's outputs, counts per task);
- the ``critic`` and ``operating_point`` that filtered the teacher's knowledge;
- the self-imitation ``rounds`` and ``warnings``: teacher and base of one family (e.g. both Gemma
  3) is warned about, printed and stored, because traits pass between models that share a base
  even through filtered data (subliminal learning).

:func:`walk` follows a model's record to its base and teacher, and theirs, for ``intentkg lineage``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from intentkg.errors import IntentkgError
from intentkg.llm import model_lineage
from intentkg.progress import console
from intentkg.workspace import Workspace
from intentkg.workspace.manifest import Manifest, ModelRef

RECORD = model_lineage.RECORD_FILE
MODEL_SUFFIXES = (".gguf", ".safetensors")
MAX_DEPTH = 6


def _resolve(ws: Workspace, file: str | None) -> Path | None:
    if not file:
        return None
    path = Path(file)
    return path if path.is_absolute() else ws.root / path


def describe(ws: Workspace, ref: ModelRef | None) -> dict[str, Any] | None:
    """A model reference of a manifest as a lineage entry: id, file, sha256 and family."""
    if ref is None:
        return None
    path = _resolve(ws, ref.file)
    entry: dict[str, Any] = {"id": ref.model_id, "file": ref.file, "sha256": ref.sha256}
    if path is not None and path.exists():
        entry["sha256"] = entry["sha256"] or model_lineage.model_hash(path)
        entry.update(model_lineage.family_of(path).as_dict())
    found = model_lineage.find_record(entry["sha256"], path)
    if found is not None:
        record, where = found
        model = record.get("model", {})
        entry.setdefault("family", model.get("family") or (record.get("base") or {}).get("family"))
        entry["lineage_record"] = where
        entry["origin"] = record.get("origin")
    return entry


def _role(manifest: Manifest | None, *roles: str) -> ModelRef | None:
    for role in roles:
        for ref in (manifest.models if manifest else []):
            if ref.role == role:
                return ref
    return None


def _teacher(ws: Workspace, data: Manifest | None) -> ModelRef | None:
    """The teacher the data stage recorded, else the generator of the generate stage it read (only when
    that stage still holds the outputs the data stage read)."""
    recorded = _role(data, "teacher", "generator")
    if recorded is not None or data is None:
        return recorded
    for ref in data.inputs:
        if ref.kind == "stage" and ref.name.endswith("generate"):
            generate = ws.committed(ref.name)
            if generate is not None:
                from intentkg.workspace.fingerprint import hash_json

                if hash_json({k: v.sha256 for k, v in generate.outputs.items()}) == ref.sha256:
                    return _role(generate, "generator")
    return None


def family_warning(teacher: dict | None, base: dict | None) -> str | None:
    """The warning when teacher and base share a family (None when they differ or one is unknown)."""
    if not teacher or not base:
        return None
    family = teacher.get("family")
    if family and family == base.get("family"):
        return (f"teacher {teacher.get('id')} and the student's base {base.get('id')} share the base family "
                f"{family!r}: traits of the teacher can pass to the student through data that looks clean "
                f"(subliminal learning, Cloud et al.); prefer a base of another family")
    return None


def _artifacts(folder: Path) -> dict[str, str]:
    found = {}
    for child in sorted(folder.iterdir()):
        if child.name.startswith(".") or child.name == RECORD:
            continue
        if child.is_file() and child.suffix in MODEL_SUFFIXES:
            found[child.name] = model_lineage.model_hash(child)
        elif child.is_dir() and (child / "config.json").exists() and any(child.glob("*.safetensors")):
            found[child.name] = model_lineage.model_hash(child)
        elif child.is_dir() and (child / "adapter_config.json").exists():
            found[child.name] = model_lineage.model_hash(child)
    return found


def build_record(ws: Workspace, train_stage: str = "distill", data_stage: str | None = None,
                 rounds: list[dict] | None = None, teacher: ModelRef | None = None) -> dict[str, Any]:
    train = ws.committed(train_stage)
    if train is None:
        raise IntentkgError(f"stage {train_stage!r} of {ws.root} has not run: train the student first "
                            f"(`intentkg distill train -w {ws.root}`)")
    data_ref = next((i for i in train.inputs if i.kind == "stage" and (data_stage is None or i.name == data_stage)
                     and i.name != train_stage), None)
    data = ws.committed(data_ref.name) if data_ref else None
    base = describe(ws, _role(train, "base"))
    teacher_entry = describe(ws, teacher or _teacher(ws, data))
    critic = _role(data, "critic") or _role(ws.committed("filter"), "critic")
    point = (data.extra.get("operating_point") if data else None) or \
        (ws.committed("filter").extra.get("operating_point") if ws.committed("filter") else None)
    warnings = [w for w in [family_warning(teacher_entry, base)] if w]
    if teacher_entry is None:
        warnings.append("the teacher is unknown: the training data's generate stage was re-run since, and the "
                        "data stage did not record its teacher")
    elif not teacher_entry.get("family") or not (base or {}).get("family"):
        warnings.append("the family of the teacher or of the base is unknown: shared ancestry cannot be checked")
    return {
        "origin": "distilled",
        "model": {"id": f"{ws.root.name}/{train_stage}", "artifacts": _artifacts(ws.stage_dir(train_stage)),
                  "family": (base or {}).get("family"), "architecture": (base or {}).get("architecture")},
        "base": base, "teacher": teacher_entry,
        "data": {"stage": data_ref.name, "sha256": data_ref.sha256, "counts": data.counts if data else {}}
        if data_ref else None,
        "critic": {"id": critic.model_id, "sha256": critic.sha256} if critic else None,
        "operating_point": point, "rounds": rounds or [], "warnings": warnings,
        "trained_at": train.finished_at, "recorded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def record_student(ws: Workspace | str | Path, train_stage: str = "distill", data_stage: str | None = None,
                   rounds: list[dict] | None = None, teacher: ModelRef | None = None,
                   quiet: bool = False) -> dict[str, Any]:
    """Write the student's lineage record into its stage (atomically, in the manifest too); print warnings."""
    ws = ws if isinstance(ws, Workspace) else Workspace(ws)
    record = build_record(ws, train_stage, data_stage, rounds, teacher)
    text = json.dumps({"format": model_lineage.FORMAT, **record}, indent=2, ensure_ascii=False, default=str)
    ws.amend(train_stage, {RECORD: text}, extra={"lineage": record})
    if not quiet:
        for warning in record["warnings"]:
            console.print(f"[yellow]lineage warning:[/] {warning}", highlight=False)
    return record


def ensure_recorded(ws: Workspace, train_stage: str = "distill") -> dict[str, Any] | None:
    """The student's record, written first when the stage has none or one naming other weights (None: no
    student)."""
    if ws.committed(train_stage) is None:
        return None
    path = ws.stage_dir(train_stage) / RECORD
    if path.is_file():
        record = model_lineage.read_record(path)
        if record.get("model", {}).get("artifacts") == _artifacts(ws.stage_dir(train_stage)):
            return record
    return record_student(ws, train_stage)


@dataclass
class ModelNode:
    """One model of a lineage walk: its record (None: unknown lineage) and the models it came from."""

    role: str  # generator, base, teacher
    model_id: str
    sha256: str | None
    file: str | None
    record: dict[str, Any] | None
    where: str | None
    parents: list["ModelNode"] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return self.record is not None

    def warnings(self) -> list[str]:
        own = list((self.record or {}).get("warnings") or [])
        return own + [w for p in self.parents for w in p.warnings()]


def walk(role: str, model_id: str, sha256: str | None, file: str | Path | None, depth: int = 0) -> ModelNode:
    """A model and, through its lineage record, its base and teacher (and theirs)."""
    found = model_lineage.find_record(sha256, file) if (sha256 or file) else None
    record, where = found if found else (None, None)
    node = ModelNode(role, model_id, sha256, str(file) if file else None, record, where)
    if record is None or depth >= MAX_DEPTH:
        return node
    for parent_role in ("base", "teacher"):
        entry = record.get(parent_role)
        if entry:
            parent_file = entry.get("file")
            if parent_file and where and not Path(parent_file).is_absolute():
                parent_file = _workspace_of(Path(where)) / parent_file
            node.parents.append(walk(parent_role, entry.get("id") or "?", entry.get("sha256"), parent_file, depth + 1))
    return node


def _workspace_of(record_file: Path) -> Path:
    """The workspace a record inside a stage folder belongs to (files in a record are workspace-relative)."""
    return record_file.parent.parent


def generator_of(ws: Workspace, model_hash: str) -> ModelRef | None:
    """The generate stage's model reference with this hash (for its file)."""
    for stage in ws.stages():
        manifest = ws.committed(stage)
        for ref in (manifest.models if manifest else []):
            if ref.role == "generator" and ref.sha256 == model_hash:
                return ref
    return None
