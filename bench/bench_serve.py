"""Serving benchmark (issue 17 item 5), loopback only, bounded in count and time.

    .venv/bin/python bench/bench_serve.py                # rounds + ladder + open loop + 2 workers (~5 min)
    .venv/bin/python bench/bench_serve.py --soak 600     # plus a 10-minute soak with a refresh in the middle
    .venv/bin/python bench/bench_serve.py --soak 600 --soak-only   # the soak alone (one API server)
    .venv/bin/python bench/bench_serve.py --redis        # the API on a local redis-server instead of SQLite
    .venv/bin/python bench/bench_serve.py --against /tmp/old/src   # + another checkout's API, old against new

Measured in one run, in alternating rounds (ABBA: every other round in reverse order; median and
min-max over rounds; the load average is printed before and after): cached hits of the API
(``intentkg serve run``, one worker: the fast path on Granian's RSGI interface, and the same app on
uvicorn over ASGI) against three bare constant apps (bench/constant_asgi.py) - uvicorn + httptools
(the issue's reference), Granian RSGI (the constant endpoint of our own stack) and Granian ASGI (to
show what RSGI saves). Every request of the API is a hit on one of 200,000 keys, drawn uniformly
(every key as likely: most requests miss the 64 MB response cache and pay the PII scrub and the
store GET), Zipf-distributed (the k-th key asked 1/k as often, as search queries are: most requests
are answered from the response cache) or from 10,000 keys ("repeat": every request from the
response cache). Closed loop: `wrk` (Debian package wrk) at 1, 4, 16 and 64 connections, the
constant apps driven by the same script of key paths as the API (the generator's work per request
is the same on both sides of a ratio); its CPU
use is printed beside the server's, to show that the generator is not the bottleneck, and the
server's CPU microseconds per request (less sensitive to a busy machine than req/s). Open loop:
`h2load` (Debian package nghttp2-client), 50 keep-alive connections each sending a request every
10 ms (5,000 req/s), latency per request from its log; a connection's next request is late only
when its last one took over 10 ms, which fails the goal anyway. Then the API with ``--workers 2``. Needs: apt-get install wrk nghttp2-client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from intentkg.serve.keys import encode  # noqa: E402
from intentkg.serve.runtime import open_store  # noqa: E402

KEYS = 200_000


def query(i: int) -> str:
    """The text of cached query ``i``: "query 12k345". No run of 6+ digits: such a query may hold a
    phone or account number and goes through Presidio (~0.5 ms) when it is not in the scrub's LRU,
    which an earlier version of this benchmark paid on half its keys ("query 123456")."""
    return f"query {i // 1000}k{i % 1000}"


def _items(generation: int):
    for i in range(KEYS):
        facts = [{"relation": "used_for_event", "intention": f"intent {i % 997} g{generation}", "score": 0.9,
                  "source": "query", "intention_id": f"intention:{i % 997:016x}", "neighbour": ""}] * 5
        yield f"q:{query(i)}", encode("query", query(i), facts, "tier1")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def raw_get(store, seconds: float = 3.0) -> dict:
    rng = random.Random(0)
    lat, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end:
        key = f"q:{query(rng.randrange(KEYS))}"
        t = time.perf_counter()
        store.get(key)
        lat.append(time.perf_counter() - t)
    arr = np.array(lat) * 1000
    return {"ops_per_s": len(lat) / seconds, "p50_ms": float(np.percentile(arr, 50)),
            "p99_ms": float(np.percentile(arr, 99))}


WRK_SCRIPT = """
local paths = {}
for line in io.lines("PATHS") do paths[#paths + 1] = line end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
"""


KINDS = ("uniform", "zipf", "repeat")
REPEAT_KEYS = 10_000


def key_paths(kind: str, n: int = 200_000, seed: int = 3) -> list[str]:
    """Request paths of cached queries: ``uniform`` (every key as likely: the worst case for any
    cache), ``zipf`` (the k-th most asked key asked 1/k as often, as search queries are) or
    ``repeat`` (10,000 keys, every one answered from the response cache once warm)."""
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        picks = rng.integers(0, KEYS, n)
    elif kind == "repeat":
        picks = rng.integers(0, REPEAT_KEYS, n)
    else:
        weights = 1.0 / np.arange(1, KEYS + 1)
        picks = rng.permutation(KEYS)[rng.choice(KEYS, n, p=weights / weights.sum())]
    return ["/v1/knowledge/query?q=" + quote(query(int(i))) for i in picks]


def wrk_script(work: Path, kind: str) -> Path:
    paths, script = work / f"paths-{kind}.txt", work / f"keys-{kind}.lua"
    paths.write_text("\n".join(key_paths(kind)) + "\n")
    script.write_text(WRK_SCRIPT.replace("PATHS", str(paths)))
    return script


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a process and its children (a server's workers)."""
    import psutil

    total = 0.0
    parent = psutil.Process(pid)
    for proc in [parent, *parent.children(recursive=True)]:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def wrk(url: str, connections: int, seconds: int, script: Path | None, server_pid: int | None = None) -> dict:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = _cpu_s(server_pid) if server_pid else 0.0
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", *(["-s", str(script)] if script else []),
               url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / seconds
    server_cpu = (_cpu_s(server_pid) - server_before) / seconds if server_pid else float("nan")

    def ms(label):
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.M)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {"connections": connections, "rps": rps, "p50_ms": ms("50"), "p99_ms": ms("99"),
            "non_2xx": int(errors.group(1)) if errors else 0, "socket_errors": socket_errors.group(1) if socket_errors else "",
            "wrk_cpu": round(wrk_cpu, 3), "server_cpu": round(server_cpu, 3)}


def h2load(url: str, paths: list[str], rate: int, seconds: int, work: Path, clients: int = 50) -> dict:
    """Open loop at ``rate`` req/s: ``clients`` connections, each at rate / clients req/s."""
    uris, log = work / "uris.txt", work / "h2load.log"
    uris.write_text("".join(url + p + "\n" for p in paths))
    log.unlink(missing_ok=True)
    out = subprocess.run(["h2load", "--h1", "-c", str(clients), "-t", "1", "--rps", str(rate // clients), "-D",
                          str(seconds), "--warm-up-time", "1", "-i", str(uris), f"--log-file={log}"],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    rows = [line.split("\t") for line in log.read_text().splitlines() if line.strip()]
    status = np.array([int(r[1]) for r in rows])
    micros = np.array([int(r[2]) for r in rows]) / 1000
    starts = np.array([int(r[0]) for r in rows]) / 1e6
    span = (starts.max() - starts.min()) if len(starts) > 1 else float("nan")
    failed = re.search(r"requests: .*?(\d+) failed", out)
    return {"rate": rate, "requests": len(rows), "achieved_rps": len(rows) / span, "errors": int((status != 200).sum())
            + (int(failed.group(1)) if failed else 0), "p50_ms": float(np.percentile(micros, 50)),
            "p99_ms": float(np.percentile(micros, 99)), "max_ms": float(micros.max())}


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> tuple[int, bytes]:
    """One keep-alive HTTP/1.1 GET on raw asyncio streams (httpx's pool is the bottleneck at these rates)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = int(re.search(rb"content-length: *(\d+)", head, re.I).group(1))
    return status, await reader.readexactly(length)


async def fixed_rate(url: str, rate: float, seconds: float, on_half=None, workers: int = 32) -> dict:
    """Open-loop load at ``rate`` req/s: request i is due at start + i / rate; ``workers`` keep-alive
    connections take the next due request, wait for its time and send it. Latency counts from the
    due time, so a server that falls behind shows it instead of hiding it."""
    host, port = url.rsplit("/", 1)[-1].split(":")
    rng = random.Random(1)
    latencies, errors = [], 0
    total = int(rate * seconds)
    counter = iter(range(total))
    half = {"done": False}
    start = time.perf_counter()

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        for i in counter:
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if on_half and not half["done"] and i >= total // 2:
                half["done"] = True
                asyncio.get_running_loop().run_in_executor(None, on_half)
            try:
                status, body = await _get(reader, writer, "/v1/knowledge/query?q=" + quote(query(rng.randrange(KEYS))))
                if status != 200 or b'"outcome": "hit"' not in body:
                    errors += 1
            except Exception:  # noqa: BLE001 - counted; reconnect
                errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, int(port))
            latencies.append(time.perf_counter() - due)
        writer.close()

    await asyncio.gather(*(worker() for _ in range(workers)))
    elapsed = time.perf_counter() - start
    arr = np.array(latencies) * 1000
    return {"rate": rate, "sent": total, "achieved_rps": total / elapsed, "errors": errors,
            "p50_ms": float(np.percentile(arr, 50)), "p99_ms": float(np.percentile(arr, 99))}


def _start(command: list[str], log: Path, cwd: Path | None = None, env: dict | None = None) -> subprocess.Popen:
    handle = open(log, "wb")  # a file, not a pipe nobody reads: a full pipe blocks the server
    return subprocess.Popen(command, cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})},
                            stdout=handle, stderr=subprocess.STDOUT)


def _wait_ready(url: str, process: subprocess.Popen, log: Path, seconds: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"server did not start in {seconds:.0f} s")


def _cpu_per_request(result: dict) -> float:
    """Microseconds of server CPU (workers included) per answered request."""
    return result["server_cpu"] / result["rps"] * 1e6


def _stats(values: list[float]) -> str:
    return f"{np.median(values):,.3g} ({min(values):,.3g}-{max(values):,.3g})"


def _goal(name: str, values: list[float], goal: float, higher: bool = True) -> str:
    value = float(np.median(values))
    met = value >= goal if higher else value <= goal
    return f"GOAL {name}: median {_stats(values)}, goal {'>=' if higher else '<='} {goal:g}: {'MET' if met else 'NOT MET'}"


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis", action="store_true", help="use a local redis-server as the store")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of the c=16 comparison")
    parser.add_argument("--seconds", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rate", type=int, default=5000, help="open-loop request rate")
    parser.add_argument("--soak", type=int, default=0, help="soak seconds at --soak-rate (0 = skip)")
    parser.add_argument("--soak-rate", type=float, default=200)
    parser.add_argument("--soak-only", action="store_true", help="start only the API and run the soak")
    parser.add_argument("--against", metavar="SRC", help="another checkout's src folder: its API (Granian, one worker) "
                        "is measured in the same rounds on the same snapshot, old against new")
    args = parser.parse_args()
    for tool, package in (("wrk", "wrk"), ("h2load", "nghttp2-client")):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed: apt-get install {package}")
    print(f"start: {_load()} on {os.cpu_count()} cores", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    redis_proc, redis_url = None, None
    if args.redis:
        port = _port()
        redis_proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                       "--appendonly", "no", "--dir", str(work)], stdout=subprocess.DEVNULL)
        redis_url = f"redis://127.0.0.1:{port}/0"
        from intentkg.serve.redis_store import wait_for

        wait_for(redis_url)
    from intentkg.pii.precheck import may_hold_pii

    assert not any(may_hold_pii(query(i)) for i in range(KEYS)), "a cached query would go through Presidio"
    store, writer, _ = open_store(work, redis_url)
    t = time.perf_counter()
    writer.write_snapshot(_items(0))
    print(f"snapshot of {KEYS:,} keys written in {time.perf_counter() - t:.1f} s", flush=True)
    baseline = raw_get(store, 2.0)
    store.close()
    print("raw store GET in process:", json.dumps(baseline), flush=True)
    scripts = {kind: wrk_script(work, kind) for kind in KINDS}
    script = scripts["uniform"]
    python = sys.executable
    api = [python, "-m", "intentkg.cli.main", "serve", "run", "-w", str(work)] + (
        ["--redis", redis_url] if redis_url else [])
    ready = "/v1/knowledge/query?q=query%200k1"
    servers = {  # name -> (command, path that answers when it is up)
        "uvicorn constant": ([python, "-m", "uvicorn", "constant_asgi:app", "--http", "httptools", "--loop", "uvloop",
                              "--log-level", "warning", "--app-dir", str(ROOT / "bench"), "--port"], "/"),
        "granian asgi constant": ([python, "-m", "granian", "--interface", "asgi", "--http", "1", "--no-ws",
                                   "--log-level", "warning", "--working-dir", str(ROOT / "bench"), "constant_asgi:app",
                                   "--port"], "/"),
        "granian rsgi constant": ([python, "-m", "granian", "--interface", "rsgi", "--http", "1", "--no-ws",
                                   "--log-level", "warning", "--working-dir", str(ROOT / "bench"),
                                   "constant_asgi:rsgi_app", "--port"], "/"),
        "ours granian": (api + ["--server", "granian", "--port"], ready),
        "granian rsgi sized constant": ([python, "-m", "granian", "--interface", "rsgi", "--http", "1", "--no-ws",
                                         "--log-level", "warning", "--working-dir", str(ROOT / "bench"),
                                         "constant_asgi:rsgi_sized_app", "--port"], "/"),
        "ours uvicorn": (api + ["--server", "uvicorn", "--port"], ready),
    }
    server_env: dict[str, dict[str, str]] = {}
    if args.against:
        servers["against granian"] = (api + ["--server", "granian", "--port"], ready)
        server_env["against granian"] = {"PYTHONPATH": str(Path(args.against).resolve())}
    # what each round measures: label -> (server, wrk script). The constant apps get the same script
    # (the uniform key paths, which they ignore): wrk's per-request work (a Lua call, the longer
    # request line) is then the same on both sides of every ratio; without a script wrk spends less
    # CPU per request, CPU the server gets on a machine where generator and server share the cores
    targets = {
        "uvicorn constant": ("uvicorn constant", script), "granian asgi constant": ("granian asgi constant", script),
        "granian rsgi constant": ("granian rsgi constant", script),
        "granian rsgi sized constant": ("granian rsgi sized constant", script),
        "ours granian uniform": ("ours granian", scripts["uniform"]), "ours granian zipf": ("ours granian", scripts["zipf"]),
        "ours granian repeat": ("ours granian", scripts["repeat"]), "ours uvicorn uniform": ("ours uvicorn", scripts["uniform"]),
    }
    if args.against:
        targets |= {f"against granian {kind}": ("against granian", scripts[kind]) for kind in KINDS}
    running: dict[str, tuple[subprocess.Popen, str]] = {}
    if args.soak_only:
        if not args.soak:
            raise SystemExit("--soak-only needs --soak SECONDS")
        servers, targets = {"ours granian": servers["ours granian"]}, {}
    try:
        sized: dict[str, str] = {}
        for name, (command, path) in servers.items():
            port = _port()
            log = work / f"{name.replace(' ', '-')}.log"
            if name == "granian rsgi sized constant":  # as long as an answer of ours
                import httpx

                sized["CONSTANT_BODY_BYTES"] = str(len(httpx.get(running["ours granian"][1] + ready).content))
                print(f"sized constant: {sized['CONSTANT_BODY_BYTES']} bytes a body", flush=True)
            process = _start(command + [str(port)], log, env=sized | server_env.get(name, {}))
            url = f"http://127.0.0.1:{port}"
            _wait_ready(url + path, process, log)
            running[name] = (process, url)
        if args.soak_only:
            soak(running["ours granian"][0].pid, running["ours granian"][1], writer, args.soak, args.soak_rate)
            print(f"end: {_load()}")
            return
        for label, (name, kind_script) in targets.items():  # warm up: the first requests load code and caches
            wrk(running[name][1], 16, 2, kind_script)
        rounds: dict[str, list[dict]] = {label: [] for label in targets}
        for r in range(args.rounds):  # ABBA: every other round in reverse order
            for label, (name, kind_script) in (list(targets.items()) if r % 2 == 0 else
                                               list(reversed(targets.items()))):
                process, url = running[name]
                result = wrk(url, 16, args.seconds, kind_script, process.pid)
                rounds[label].append(result)
                print(f"round {r + 1} {label}:", json.dumps(result), flush=True)
        ours_pid, ours_url = running["ours granian"]
        ladder = [wrk(ours_url, c, args.seconds, script, ours_pid.pid) for c in (1, 4, 64)]
        for result in ladder:
            print("ours granian uniform ladder:", json.dumps(result), flush=True)
        open_loop = {name: h2load(running[name][1], key_paths("uniform", 20_000), args.rate, 10, work)
                     for name in ("uvicorn constant", "granian rsgi constant")}
        for kind in ("uniform", "zipf"):
            open_loop[f"ours granian {kind}"] = h2load(ours_url, key_paths(kind, 20_000), args.rate, 10, work)
        for name, result in open_loop.items():
            print(f"open loop {name}:", json.dumps(result), flush=True)
        for name in [n for n in running if n != "ours granian"]:
            process, _ = running.pop(name)
            process.terminate()
            process.wait(timeout=20)

        port = _port()
        log = work / "ours-2-workers.log"
        process = _start(api + ["--workers", "2", "--port", str(port)], log)
        url2 = f"http://127.0.0.1:{port}"
        _wait_ready(url2 + "/health", process, log)
        running["ours granian 2 workers"] = (process, url2)
        wrk(url2, 16, 2, script)
        two = [wrk(url2, c, args.seconds, script, process.pid) for c in (16, 64)]
        for result in two:
            print("ours granian 2 workers uniform:", json.dumps(result), flush=True)
        import httpx

        merged = httpx.get(url2 + "/metrics").json()

        print(f"\nend of load: {_load()}")
        print(f"store: {'redis' if redis_url else 'sqlite (embedded)'}; raw GET {baseline['ops_per_s']:,.0f} ops/s")
        print(f"{'c=16, ' + str(args.rounds) + ' rounds':<22} {'req/s median (min-max)':>32} {'p99 ms':>18} "
              f"{'wrk cpu':>8} {'server cpu':>10} {'server cpu us/req':>18}")
        for name, results in rounds.items():
            print(f"{name:<22} {_stats([x['rps'] for x in results]):>32} {_stats([x['p99_ms'] for x in results]):>18} "
                  f"{np.median([x['wrk_cpu'] for x in results]):>8.2f} {np.median([x['server_cpu'] for x in results]):>10.2f}"
                  f" {_stats([_cpu_per_request(x) for x in results]):>18}")
        for result in ladder:
            print(f"ours granian uniform c={result['connections']:>3}: {result['rps']:>9,.0f} req/s  p50 {result['p50_ms']:.2f} ms"
                  f"  p99 {result['p99_ms']:.2f} ms  non-2xx {result['non_2xx']}")
        for result in two:
            print(f"ours granian, 2 workers, c={result['connections']:>3}: {result['rps']:>9,.0f} req/s  "
                  f"p99 {result['p99_ms']:.2f} ms  non-2xx {result['non_2xx']}")
        print(f"2 workers: /metrics sums {merged['background']['workers']} workers, "
              f"{sum(merged['requests'].values()):,} requests counted")
        for name, result in open_loop.items():
            print(f"open loop {result['rate']:,} req/s {name}: achieved {result['achieved_rps']:,.0f}, "
                  f"p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms, max {result['max_ms']:.1f} ms, "
                  f"errors {result['errors']}")
        ratio_generator = [x["wrk_cpu"] for x in rounds["granian rsgi constant"]]
        print(f"generator: wrk used {_stats(ratio_generator)} of a core against the fastest bare app "
              f"(1.0 would mean wrk, not the server, is the limit)")
        print(f"ours on uvicorn / uvicorn constant: "
              f"{_stats([o['rps'] / c['rps'] for o, c in zip(rounds['ours uvicorn uniform'], rounds['uvicorn constant'])])}")
        ours = [x["rps"] for x in rounds["ours granian uniform"]]
        print(f"2 workers / 1 worker at c=16 (uniform keys): {two[0]['rps'] / float(np.median(ours)):.2f}")
        errors = sum(x["non_2xx"] for rs in rounds.values() for x in rs) + sum(x["non_2xx"] for x in ladder + two) \
            + sum(r["errors"] for r in open_loop.values())
        print("granian rsgi constant / granian asgi constant, req/s: " + _stats(
            [r["rps"] / a["rps"] for r, a in zip(rounds["granian rsgi constant"], rounds["granian asgi constant"])]))
        for kind in KINDS:
            ours = rounds[f"ours granian {kind}"]
            for base, goal in (("uvicorn constant", 1.0), ("granian rsgi constant", 0.8),
                               ("granian rsgi sized constant", 0.8)):
                cpu_ratio = [_cpu_per_request(c) / _cpu_per_request(o) for o, c in zip(ours, rounds[base])]
                print(f"{kind} keys: server CPU per request, {base} / ours (less sensitive to a busy machine "
                      f"than req/s; goal {goal:g}): {_stats(cpu_ratio)}")
            print(_goal(f"{kind} keys: cached hit / bare uvicorn+httptools constant (c=16)",
                        [o["rps"] / c["rps"] for o, c in zip(ours, rounds["uvicorn constant"])], 1.0))
            print(_goal(f"{kind} keys: cached hit / bare constant on our stack, Granian RSGI (c=16)",
                        [o["rps"] / c["rps"] for o, c in zip(ours, rounds["granian rsgi constant"])], 0.8))
            print(f"{kind} keys: cached hit / the same constant with a body as long as ours (req/s, not a goal): "
                  + _stats([o["rps"] / c["rps"] for o, c in zip(ours, rounds["granian rsgi sized constant"])]))
            print(_goal(f"{kind} keys: p99 ms at 16 connections", [x["p99_ms"] for x in ours], 2.0, higher=False))
            if f"ours granian {kind}" in open_loop:
                print(_goal(f"{kind} keys: p99 ms at {args.rate:,} req/s open loop",
                            [open_loop[f"ours granian {kind}"]["p99_ms"]], 2.0, higher=False))
        if args.against:
            for kind in KINDS:
                ours, old = rounds[f"ours granian {kind}"], rounds[f"against granian {kind}"]
                print(f"{kind} keys: server CPU per request, {args.against} / this checkout (old / new, same rounds): "
                      + _stats([_cpu_per_request(a) / _cpu_per_request(b) for a, b in zip(old, ours)])
                      + f"; {args.against} {_stats([_cpu_per_request(a) for a in old])} µs, this checkout "
                      f"{_stats([_cpu_per_request(b) for b in ours])} µs")
        print(f"errors (non-2xx, failed) over every run: {errors}")
        if args.soak:
            soak(running["ours granian"][0].pid, ours_url, writer, args.soak, args.soak_rate)
        print(f"end: {_load()}")
    finally:
        for name, (process, _) in running.items():
            process.terminate()
            process.wait(timeout=20)
        if redis_proc:
            redis_proc.terminate()
        shutil.rmtree(work, ignore_errors=True)


def soak(pid: int, url: str, writer, seconds: int, rate: float) -> None:
    """``seconds`` at ``rate`` req/s (open loop, every answer checked), a refresh written and swapped in
    at the middle, the server's RSS (workers included) sampled every 10 s."""
    import psutil

    def rss() -> tuple[float, float]:
        """(RSS, anonymous RSS) in MB of the server and its workers; RSS includes the snapshot's
        memory-mapped pages (file-backed, shared, given back under pressure), anonymous RSS does not."""
        parent = psutil.Process(pid)
        total = anon = 0.0
        for proc in [parent, *parent.children(recursive=True)]:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
            anon += int(re.search(r"RssAnon:\s+(\d+)", status).group(1)) / 1024
        return total, anon

    samples, refresh = [rss()], {}

    def swap():
        t0 = time.perf_counter()
        writer.write_snapshot(_items(1))
        refresh["s"] = time.perf_counter() - t0

    async def run():
        async def sample():
            while True:
                await asyncio.sleep(10)
                samples.append(rss())
        sampler = asyncio.create_task(sample())
        result = await fixed_rate(url, rate, seconds, on_half=swap)
        sampler.cancel()
        return result

    result = asyncio.run(run())
    samples.append(rss())
    half = len(samples) // 2
    print("soak:", json.dumps(result), flush=True)
    print(f"soak {seconds} s at {rate:.0f} req/s with a refresh at the middle ({refresh.get('s', float('nan')):.1f} s "
          f"to write and swap): errors {result['errors']}, p99 {result['p99_ms']:.2f} ms")
    for i, what in ((0, "RSS"), (1, "anonymous RSS")):
        values = [x[i] for x in samples]
        print(f"soak server {what}: start {values[0]:.0f} MB, max {max(values):.0f} MB, end {values[-1]:.0f} MB; "
              f"median of the first half {np.median(values[:half]):.0f} MB, of the second {np.median(values[half:]):.0f} MB")

if __name__ == "__main__":
    main()
