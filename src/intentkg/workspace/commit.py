"""Committing a stage: all of its outputs replace the previous ones, or none do.

A run writes every output into ``<stage>/.incoming/`` and the new manifest as
``.incoming/manifest.json``. The commit then

1. writes the journal ``<stage>/.commit.json`` (atomically): the names that move in and the
   previous outputs that go. From this moment the commit is decided;
2. moves each previous output aside into ``.replaced/`` and the new one into its place;
3. moves the new manifest into place, removes the attempt record, the journal and the leftovers.

A process killed during 2 or 3 leaves the journal; whoever next opens the stage (a re-run, a
reader, ``intentkg status``) finishes the moves first (:func:`complete`), so no one ever reads a
stage that is half old and half new. Killed before 1, the stage is untouched: the old outputs
and manifest stand, and the attempt record says the run was interrupted.

``INTENTKG_KILL_AT=<stage>:<point>`` makes the process SIGKILL itself at that point (tests of the
above): ``commit:staged``, ``commit:journal``, ``commit:moving``, ``commit:manifest``, and in the
stage body ``step:<timed step>`` and ``write:<table>`` (first batch of a table).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

from intentkg import atomic_file
from intentkg.workspace.attempt import clear_attempt
from intentkg.workspace.manifest import MANIFEST_NAME
from intentkg.workspace.paths import remove

INCOMING = ".incoming"
REPLACED = ".replaced"
JOURNAL = ".commit.json"
KILL_ENV = "INTENTKG_KILL_AT"
KILL_ONCE_ENV = "INTENTKG_KILL_ONCE"


def kill_point(stage: str, point: str) -> None:
    """SIGKILL this process when ``INTENTKG_KILL_AT`` names this point (fault-injection tests only)."""
    wanted = os.environ.get(KILL_ENV)
    if wanted and wanted == f"{stage}:{point}":
        os.kill(os.getpid(), signal.SIGKILL)


def kill_once(stage: str, point: str) -> None:
    """:func:`kill_point` for a process that is replaced and retried (a cluster's worker): only the
    first to reach the point dies, the one that creates the file ``INTENTKG_KILL_ONCE`` names."""
    marker = os.environ.get(KILL_ONCE_ENV)
    if marker and os.environ.get(KILL_ENV) == f"{stage}:{point}":
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        os.kill(os.getpid(), signal.SIGKILL)


def pending(folder: Path) -> bool:
    return (folder / JOURNAL).exists()


def commit(folder: Path, stage: str, names: list[str], previous: list[str], finishes_run: bool = True) -> None:
    """Swap ``names`` (staged in ``.incoming``, with ``.incoming/manifest.json``) into ``folder``;
    ``finishes_run``: the commit ends a run, so the attempt record goes with it."""
    kill_point(stage, "commit:staged")
    remove_names = [n for n in previous if n not in names and n != MANIFEST_NAME]
    atomic_file.write_json(folder / JOURNAL, {"stage": stage, "move_in": names, "remove": remove_names,
                                              "finishes_run": finishes_run}, fsync=True)
    kill_point(stage, "commit:journal")
    complete(folder, stage)


def complete(folder: Path, stage: str = "") -> bool:
    """Finish a decided commit (idempotent: each move is done once); False when none was pending."""
    journal = folder / JOURNAL
    try:
        plan = json.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except ValueError:  # the journal itself is written atomically; unreadable means tampered
        plan = {"move_in": [], "remove": []}
    incoming, replaced = folder / INCOMING, folder / REPLACED
    replaced.mkdir(exist_ok=True)
    for i, name in enumerate(_safe(plan.get("move_in", []))):
        source, target = incoming / name, folder / name
        if not os.path.lexists(source):
            continue  # moved in before the interruption
        _aside(target, replaced)
        os.replace(source, target)
        if i == 0:
            kill_point(stage, "commit:moving")
    for name in _safe(plan.get("remove", [])):
        _aside(folder / name, replaced)
    staged_manifest = incoming / MANIFEST_NAME
    if staged_manifest.exists():
        os.replace(staged_manifest, folder / MANIFEST_NAME)
    kill_point(stage, "commit:manifest")
    if plan.get("finishes_run", True):
        clear_attempt(folder)
    journal.unlink(missing_ok=True)
    for leftover in (replaced, incoming):
        if leftover.exists():
            shutil.rmtree(leftover, ignore_errors=True)
    return True


def _aside(target: Path, replaced: Path) -> None:
    if os.path.lexists(target):
        destination = replaced / target.name
        if os.path.lexists(destination):
            remove(destination)
        os.replace(target, destination)  # a link is moved, never followed


def _safe(names) -> list[str]:
    """Only plain names of entries of the stage folder (a journal cannot move anything elsewhere)."""
    return [n for n in names if isinstance(n, str) and n and "/" not in n and "\\" not in n
            and n not in (".", "..") and not n.startswith(".")]
