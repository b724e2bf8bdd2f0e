"""CI's skip policy: a skipped test is allowed only when the real part cannot run on this machine.

With ``INTENTKG_STRICT_SKIPS=1`` (set by ``.ci/run``) the run lists every skipped test with its
reason and fails when a reason is not an allowed one. Allowed: no GPU / vLLM not importable (a
GPU-only engine). Everything else the suite needs (bundled models, chromium, redis-server,
../shared/data) is installed by ``make setup`` or present in CI, so a skip there hides a defect.
"""

from __future__ import annotations

import os
import re

import pytest

ALLOWED = re.compile(r"vllm|no GPU|CUDA", re.IGNORECASE)
_skipped: list[tuple[str, str]] = []


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def disallowed(reasons: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(test, why) for test, why in reasons if not ALLOWED.search(why)]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append((report.nodeid, _reason(report)))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if os.environ.get("INTENTKG_STRICT_SKIPS") != "1":
        return
    write = terminalreporter.write_line
    write(f"skip policy: {len(_skipped)} skipped test(s); allowed reasons match {ALLOWED.pattern!r}")
    for test, why in _skipped:
        write(f"  {'allowed ' if ALLOWED.search(why) else 'REFUSED '} {test}: {why}")


def pytest_sessionfinish(session, exitstatus) -> None:
    if os.environ.get("INTENTKG_STRICT_SKIPS") == "1" and disallowed(_skipped) and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
