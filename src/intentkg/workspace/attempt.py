"""One stage run at a time, and a record of the latest attempt.

``<stage>/.lock`` is held (``flock``: the kernel releases it when the process ends, even on SIGKILL,
so there is never a stale lock to clean up) for the whole run, so a second concurrent run of the same stage stops at once with a clear message.
``<stage>/.attempt.json`` says what the latest run that did not complete was doing: ``running``
(written when a run starts) or ``failed`` (with the error). A successful commit removes it. A
``running`` record whose lock nobody holds is an interrupted run (the process was killed).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from intentkg import atomic_file
from intentkg.errors import IntentkgError

LOCK_NAME = ".lock"
ATTEMPT_NAME = ".attempt.json"


@dataclass
class Attempt:
    status: str  # running | failed (interrupted is derived: running, and nobody holds the lock)
    fingerprint: str
    config: dict[str, Any]
    config_hash: str
    started_at: str
    pid: int
    host: str
    command: str | None = None
    finished_at: str | None = None
    error: str | None = None

    @classmethod
    def start(cls, fingerprint: str, config: dict[str, Any], config_hash: str, started_at: str) -> "Attempt":
        return cls("running", fingerprint, config, config_hash, started_at, os.getpid(), socket.gethostname(),
                   command_line())

    def write(self, folder: Path) -> None:
        atomic_file.write_json(folder / ATTEMPT_NAME, asdict(self), default=str)


def command_line() -> str | None:
    """The intentkg command this process runs, when it is the CLI (to say how to run it again)."""
    import shlex

    program = Path(sys.argv[0]).name if sys.argv else ""
    if program == "intentkg" or (program == "main.py" and "intentkg" in sys.argv[0]):
        return shlex.join(["intentkg", *sys.argv[1:]])
    return None


def read_attempt(folder: Path) -> Attempt | None:
    path = folder / ATTEMPT_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Attempt(**data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError):  # unreadable record: treat as an interrupted run
        return Attempt("running", "", {}, "", "", -1, "", None, None, f"unreadable {path.name}")


def clear_attempt(folder: Path) -> None:
    (folder / ATTEMPT_NAME).unlink(missing_ok=True)


def _open_lock_file(folder: Path) -> int:
    path = folder / LOCK_NAME
    if path.is_symlink():
        path.unlink()  # a planted link: the lock file is ours, never what a link points at
    return os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


class StageLock:
    """The lock of one stage folder; ``acquire`` fails at once (or after ``wait`` seconds) when held.
    Held per open file, so a second run in the same process is refused as well."""

    def __init__(self, folder: Path, stage: str):
        self.folder, self.stage = folder, stage
        self._fd: int | None = None

    def acquire(self, wait: float = 0) -> "StageLock":
        import time

        self.folder.mkdir(parents=True, exist_ok=True)
        fd = _open_lock_file(self.folder)
        deadline = time.monotonic() + wait
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                os.close(fd)
                raise IntentkgError(self._busy_message())
            time.sleep(0.05)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None

    def __enter__(self) -> "StageLock":
        return self if self._fd is not None else self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    def _busy_message(self) -> str:
        attempt = read_attempt(self.folder)
        who = f" by pid {attempt.pid} on {attempt.host} since {attempt.started_at}" if attempt else ""
        return (f"stage {self.stage!r} ({self.folder}) is being run{who}: one run of a stage at a time. "
                f"Wait for it to finish (`intentkg status` shows it as running), or stop that process")


def is_locked(folder: Path) -> bool:
    """Whether a process holds the stage's lock right now (a run is in progress)."""
    path = folder / LOCK_NAME
    if not path.exists() or path.is_symlink():
        return False
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        return not _try_lock(fd)
    finally:
        os.close(fd)
