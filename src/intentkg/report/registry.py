"""The section registry: each report section is a function ``ReportContext -> HTML fragment or None``.

    from intentkg.report import section

    @section("kg", "Knowledge graph", order=40)
    def render(ctx: ReportContext) -> str | None:
        if ctx.workspace.manifest("kg") is None:
            return None          # nothing to show: the section is left out
        return "<p>...</p>"      # escape untrusted text with intentkg.report.html.esc

Sections are ordered by ``order`` (ingest 10, generate 20, filter 30, annotate 40, kg 50, eval 60, serve 70).
Sections about the report's own inputs live in :mod:`intentkg.report.sections` (every module there is
imported). A package's own section lives in that package and registers when imported
(``intentkg.filter.report_section``, ``intentkg.annotate.report_section``, ...:
:data:`PACKAGE_SECTIONS`, which ``intentkg report`` imports),
so the report never imports the packages that build on it. Plugins register through the
``intentkg.report_sections`` entry-point group.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import random
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Callable

from intentkg.workspace import Workspace

ENTRY_POINT_GROUP = "intentkg.report_sections"
# imported by the `intentkg report` command (a composition root), never by this package
PACKAGE_SECTIONS = ("intentkg.filter.report_section", "intentkg.annotate.report_section",
                    "intentkg.eval.report_section", "intentkg.experiment.report_section",
                    "intentkg.distill.evaluate_report")


@dataclass
class ReportContext:
    """What every section gets: the workspace and the report's options."""

    workspace: Workspace
    seed: int = 0
    examples: int = 5  # examples per reason / per group
    options: dict[str, Any] = field(default_factory=dict)  # e.g. {"operating_point": Thresholds(...)}

    def rng(self, salt: str) -> random.Random:
        """A random generator per section, so adding a section never changes another one's samples."""
        return random.Random(f"{self.seed}:{salt}")

    def read_json(self, stage: str, name: str) -> tuple[Path, Any] | None:
        """A stage's JSON output (path confined to the workspace) and its parsed content, or None when absent."""
        path = self.workspace.output_path(stage, name)
        if not path.exists():
            return None
        return path, json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    order: int
    render: Callable[[ReportContext], str | None]


_SECTIONS: dict[str, Section] = {}
_loaded = False


def register_section(item: Section) -> Section:
    _SECTIONS[item.key] = item
    return item


def section(key: str, title: str, order: int = 100) -> Callable:
    def decorator(render: Callable[[ReportContext], str | None]):
        register_section(Section(key, title, order, render))
        return render
    return decorator


def load_sections() -> None:
    """Import the built-in section modules and the plugins' entry points (once)."""
    global _loaded
    if _loaded:
        return
    import intentkg.report.sections as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        entry.load()
    _loaded = True


def sections() -> list[Section]:
    load_sections()
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))
