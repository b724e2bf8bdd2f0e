"""The API's CPU per request in process, without a server or a network (issue 17 item 5): what the
Python of the fast path costs for a cached query, by key distribution, here and, with ``--against
SRC``, for another checkout's ``src`` in the same run (old against new).

    PYTHONPATH=src .venv/bin/python bench/bench_serve_cpu.py
    git worktree add /tmp/old <commit> && PYTHONPATH=src .venv/bin/python bench/bench_serve_cpu.py --against /tmp/old/src

bench_serve.py's 200,000 cached queries are written as a snapshot by each ``src``'s own code (its
format); each measurement is a fresh process that imports the app from one ``src``, builds it on its snapshot
(the 64 MB response cache, the PII scrubber loaded) and drives ``FastPath.__rsgi__`` directly with
RSGI scope and protocol objects (the coroutine never awaits on this path, so no event loop runs):
after a warm-up that fills the caches, ``--requests`` requests are timed with
``time.process_time``, ``--repeats`` times (each time new draws of the distribution), and the
minimum is kept (the least disturbed). The
processes alternate (ABBA) between the two sources, ``--rounds`` times; the median over rounds is
printed. Also printed, deterministic: Python bytecodes and Python calls per request for each
distribution (``sys.settrace`` opcode events over 2,000 requests after the warm-up).

Keys: ``uniform`` (every key as likely: most miss the response cache), ``zipf`` (the k-th key
asked 1/k as often), ``repeat`` (10,000 keys, all from the response cache once warm), as in
bench_serve.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("uniform", "zipf", "repeat")


def _import_from(src: str) -> None:
    """Put ``src`` first and import intentkg from it, before bench_serve (which puts this checkout's src first)."""
    sys.path.insert(0, src)
    import intentkg

    if not Path(intentkg.__file__).resolve().is_relative_to(Path(src).resolve()):
        raise RuntimeError(f"intentkg came from {intentkg.__file__}, not {src}")
    sys.path.insert(1, str(ROOT / "bench"))


def write(src: str, workspace: str) -> dict:
    """Write the snapshot with ``src``'s code (its format: page size, plain keys)."""
    _import_from(src)
    from bench_serve import _items

    from intentkg.serve.runtime import open_store

    _, writer, _ = open_store(workspace)
    return {"version": writer.write_snapshot(_items(0))}


def child(src: str, workspace: str, kind: str, requests: int, repeats: int, warm: int) -> dict:
    """Runs in a fresh process: ``src``'s app on the snapshot in ``workspace``."""
    import time

    _import_from(src)
    from bench_serve import key_paths

    from intentkg.serve.server import ServeSettings, build_app

    app = build_app(ServeSettings(workspace=workspace))
    paths = key_paths(kind, n=warm + (repeats + 1) * requests + 2_000)  # every timed request a new draw

    class Scope:
        __slots__ = ("method", "proto", "path", "query_string", "headers", "client")

        def __init__(self, target: str):
            self.method, self.proto, self.headers, self.client = "GET", "http", {}, "127.0.0.1:40000"
            self.path, _, self.query_string = target.partition("?")

    class Protocol:
        __slots__ = ("status", "body")

        def response_bytes(self, status, headers, body):
            self.status, self.body = status, body

    protocol = Protocol()
    rsgi = app.__rsgi__

    def drive(scopes) -> None:
        for scope in scopes:
            try:
                rsgi(scope, protocol).send(None)
            except StopIteration:
                pass
            else:
                raise RuntimeError("the fast path awaited: a request went to FastAPI")
            if protocol.status != 200:
                raise RuntimeError(f"status {protocol.status} for {scope.path}?{scope.query_string}")

    drive([Scope(p) for p in paths[:warm]])
    assert b'"outcome": "hit"' in protocol.body
    best = float("inf")
    for repeat in range(repeats):
        timed = [Scope(p) for p in paths[warm + repeat * requests:warm + (repeat + 1) * requests]]
        started = time.process_time()
        drive(timed)
        best = min(best, time.process_time() - started)
    counts = {"opcodes": 0, "calls": 0}

    def trace(frame, event, arg):
        if event == "call":
            counts["calls"] += 1
            frame.f_trace_opcodes = True
        elif event == "opcode":
            counts["opcodes"] += 1
        return trace

    traced = [Scope(p) for p in paths[warm + repeats * requests:][:2_000]]
    sys.settrace(trace)
    try:
        drive(traced)
    finally:
        sys.settrace(None)
    return {"us_per_request": best / requests * 1e6, "opcodes_per_request": counts["opcodes"] / len(traced),
            "calls_per_request": counts["calls"] / len(traced)}


def _run(function: str, *arguments) -> dict:
    """``function(*arguments)`` of this file in a fresh process (no PYTHONPATH: the source is chosen there)."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import bench_serve_cpu as b; "
            f"print(json.dumps(b.{function}(*sys.argv[2:4], *[int(a) if a.isdigit() else a for a in sys.argv[4:]])))")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "bench"), *map(str, arguments)],
                         capture_output=True, text=True, env=env, timeout=1800)
    if out.returncode:
        raise SystemExit(f"{function}{arguments} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", help="another checkout's src folder, measured in the same run")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--requests", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warm", type=int, default=150_000, help="requests before timing (fills the caches)")
    args = parser.parse_args()
    import numpy as np

    print("start: load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()), flush=True)
    sources = {"new": str(ROOT / "src")} | ({"old": str(Path(args.against).resolve())} if args.against else {})
    with tempfile.TemporaryDirectory(prefix="bench-serve-cpu-") as work:
        workspaces = {name: str(Path(work) / name) for name in sources}
        for name, src in sources.items():
            _run("write", src, workspaces[name])
            print(f"{name}: snapshot of bench_serve.py's 200,000 cached queries written by {src}", flush=True)
        results: dict[tuple[str, str], list[dict]] = {}
        for r in range(args.rounds):
            order = list(sources) if r % 2 == 0 else list(reversed(sources))
            for kind in args.kinds.split(","):
                for name in order:
                    result = _run("child", sources[name], workspaces[name], kind, args.requests, args.repeats,
                                  args.warm)
                    results.setdefault((name, kind), []).append(result)
                    print(f"round {r + 1} {name} {kind}: {json.dumps(result)}", flush=True)
    print("end: load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    for kind in args.kinds.split(","):
        for name in sources:
            rows = results[(name, kind)]
            us = [x["us_per_request"] for x in rows]
            print(f"{kind:<8} {name:<4} CPU per request {np.median(us):6.2f} µs (min-max {min(us):.2f}-{max(us):.2f}), "
                  f"{rows[0]['opcodes_per_request']:.0f} bytecodes, {rows[0]['calls_per_request']:.1f} Python calls")
        if "old" in sources:
            ratio = [o["us_per_request"] / n["us_per_request"] for o, n in zip(results[("old", kind)],
                                                                                 results[("new", kind)])]
            print(f"{kind:<8} old / new CPU per request: {np.median(ratio):.2f} (min-max {min(ratio):.2f}-{max(ratio):.2f})")


if __name__ == "__main__":
    main()
