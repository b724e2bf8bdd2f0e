"""Serve a GGUF over an OpenAI-compatible API with llama-cpp-python's server, AMX-safe.

    python -m intentkg.llm.llama_server --model gemma3-270m --host 127.0.0.1 --port 8000

Takes llama-cpp-python's server arguments (``python -m llama_cpp.server --help``); ``--model`` may
also be a bundled alias. Differs from ``python -m llama_cpp.server`` only in loading weights
without llama.cpp's extra CPU buffers where those crash (see :mod:`intentkg.llm.llama_cpp_compat`).
Needs the server extras: ``pip install 'llama-cpp-python[server]'`` (or intentkg[llm]).
"""

from __future__ import annotations

import sys

from intentkg.llm import bundled
from intentkg.llm.llama_cpp_compat import extra_buffers_ok, model_params_patch


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    model_path = None
    for i, arg in enumerate(args):
        if arg == "--model" and i + 1 < len(args):
            resolved = bundled.resolve(args[i + 1])
            if resolved is not None:
                args[i + 1] = str(resolved)
            model_path = args[i + 1]
    from llama_cpp.server.__main__ import main as server_main

    sys.argv = [sys.argv[0], *args]
    with model_params_patch(extra_buffers_ok(model_path) if model_path else True):
        server_main()


if __name__ == "__main__":
    main()
