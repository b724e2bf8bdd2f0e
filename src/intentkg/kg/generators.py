"""Which models generated the knowledge a KG is built from, and whether each one's lineage is known.

``intentkg build --require-lineage`` refuses to build when a generator has no lineage record
(:mod:`intentkg.llm.model_lineage`): a student trained by ``intentkg distill train`` has one in its
stage folder, the bundled models have built-in ones, any other model is declared with
``intentkg lineage --declare MODEL --origin ...``. Every build records its generators and their
lineage in the KG manifest (``extra.generators``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from intentkg import duck
from intentkg.errors import IntentkgError
from intentkg.llm import model_lineage
from intentkg.workspace import Workspace


def generator_files(ws: Workspace) -> dict[str, str]:
    """model hash -> the file the generate stage loaded it from (its manifest's generator models)."""
    files = {}
    manifest = ws.committed("generate")
    for ref in (manifest.models if manifest else []):
        if ref.role == "generator" and ref.sha256 and ref.file:
            path = Path(ref.file)
            files[ref.sha256] = str(path if path.is_absolute() else ws.root / path)
    return files


def _described(model_id: str, digest: str | None, file: str | None) -> dict[str, Any]:
    found = model_lineage.find_record(digest, file)
    record, where = found if found else (None, None)
    return {"model_id": model_id, "model_hash": digest, "file": file, "lineage": where,
            "origin": (record or {}).get("origin"), "warnings": list((record or {}).get("warnings") or [])}


def generators(ws: Workspace, con, table: str = "candidates") -> list[dict[str, Any]]:
    """Each distinct generator of ``table`` (a DuckDB view with model_id, model_hash) with its lineage."""
    files = generator_files(ws)
    return [{**_described(model_id, digest, files.get(digest)), "candidates": int(rows)}
            for model_id, digest, rows in duck.run(con, f"SELECT model_id, model_hash, count(*) FROM {table} "
                                                        "GROUP BY 1, 2 ORDER BY 1, 2")]


def stage_generators(ws: Workspace) -> list[dict[str, Any]]:
    """The generator models of the generate stage's last run, with their lineage (on-demand knowledge
    records these: its scratch workspace's candidates all come from that run)."""
    files = generator_files(ws)
    manifest = ws.committed("generate")
    return [_described(ref.model_id, ref.sha256, files.get(ref.sha256 or ""))
            for ref in (manifest.models if manifest else []) if ref.role == "generator"]


def require_known(ws: Workspace, found: list[dict[str, Any]]) -> None:
    unknown = [g for g in found if g["lineage"] is None]
    if unknown:
        names = "; ".join(f"{g['model_id']} (sha256 {str(g['model_hash'])[:12]}, {g['candidates']} candidates)"
                          for g in unknown)
        raise IntentkgError(
            f"build --require-lineage: the lineage of {len(unknown)} generator(s) of {ws.root}/generate is unknown: "
            f"{names}. Train students with `intentkg distill train` (it records their lineage), or declare an "
            f"original model with `intentkg lineage --declare MODEL_FILE --origin WHERE_IT_CAME_FROM`; "
            f"or build without --require-lineage")
