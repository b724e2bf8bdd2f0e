"""Assemble the report: run every registered section, put the fragments in one offline HTML page."""

from __future__ import annotations

import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from intentkg import atomic_file
from intentkg.errors import IntentkgError
from intentkg.report.html import esc, page
from intentkg.report.registry import ReportContext, sections
from intentkg.workspace import Workspace


def build_report(workspace: Workspace | str | Path, out: str | Path | None = None, seed: int = 0,
                 examples: int = 5, options: dict[str, Any] | None = None) -> Path:
    """Write the report (default ``<workspace>/report.html``) and return its path."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    if not ws.stages():
        raise IntentkgError(f"{ws.root} has no stages yet; run `intentkg ingest` first")
    ctx = ReportContext(ws, seed=seed, examples=examples, options=dict(options or {}))
    parts = []
    for item in sections():
        try:
            content = item.render(ctx)
        except Exception as exc:  # one broken section must not cost the whole report
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            content = f'<p class="err">this section failed: {esc(detail)}</p>'
        if content:
            parts.append((item.key, item.title, content))
    target = Path(out) if out else ws.root / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    text = page(f"intentkg report: {ws.root.name}", f"{ws.root} · generated {stamp} · seed {seed}", parts)
    atomic_file.write_text(target, text)
    return target
