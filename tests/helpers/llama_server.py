"""A real OpenAI-compatible server on 127.0.0.1 for the tests: llama-cpp-python's server holding the
bundled Gemma 3 270M (1 thread, 512 context), started once per test session for the modules that
ask for the ``llama_server`` fixture; yields its ``/v1`` base URL, the model served as ``gemma``."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory):
    pytest.importorskip("sse_starlette", reason="llama-cpp-python's server needs sse-starlette (intentkg[llm])")
    pytest.importorskip("starlette_context", reason="llama-cpp-python's server needs starlette-context")
    pytest.importorskip("pydantic_settings", reason="llama-cpp-python's server needs pydantic-settings")
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "intentkg.llm.llama_server", "--model", "gemma3-270m", "--model_alias", "gemma",
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "512", "--n_threads", "1", "--verbose", "False"],
            stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama-cpp-python server exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama-cpp-python server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
