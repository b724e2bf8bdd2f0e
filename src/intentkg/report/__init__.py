"""``intentkg report``: one self-contained HTML page about a workspace, built from registered sections.

A stage adds a section by adding a module to :mod:`intentkg.report.sections` (or an entry point in the
``intentkg.report_sections`` group) that calls :func:`register_section`. See docs/report.md.
"""

from intentkg.report.build import build_report
from intentkg.report.registry import ReportContext, Section, register_section, section, sections

__all__ = ["ReportContext", "Section", "build_report", "register_section", "section", "sections"]
