"""Real servers for serving tests: uvicorn on 127.0.0.1 in a thread, Granian as `serve run` starts
it, and Debian's redis-server."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

import pytest
import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_granian(port: int, settings, log_path: Path) -> subprocess.Popen:
    """Granian on 127.0.0.1:``port`` as `serve run` starts it (RSGI, the app factory, one worker; the CLI
    itself is run by tests/serve/test_workers.py), with ``settings`` (a ServeSettings), logging to ``log_path``."""
    from intentkg.serve.server import ENV, TARGET

    with open(log_path, "wb") as log:  # a file, not a pipe nobody reads
        return subprocess.Popen([sys.executable, "-m", "granian", "--interface", "rsgi", "--factory", "--http", "1",
                                 "--no-ws", "--log-level", "warning", "--port", str(port), TARGET],
                                env=dict(os.environ, **{ENV: json.dumps(asdict(settings))}), stdout=log,
                                stderr=subprocess.STDOUT)


class ServerThread:
    def __init__(self, app):
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        pytest.skip("redis-server (Debian package redis-server) is not installed; `make setup` installs it")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                "no", "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    from intentkg.serve.redis_store import wait_for

    wait_for(url, seconds=60)  # a fresh redis-server on a busy machine
    yield url
    process.terminate()
    process.wait(timeout=10)
