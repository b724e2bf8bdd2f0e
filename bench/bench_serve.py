"""Serving benchmark, loopback only, bounded in count and time.

    .venv/bin/python bench/bench_serve.py                 # latency/throughput ladder + fixed-rate run (~1.5 min)
    .venv/bin/python bench/bench_serve.py --soak 600      # plus a 10-minute soak with a refresh in the middle
    .venv/bin/python bench/bench_serve.py --redis          # the same against a local redis-server

Baseline, measured in the same run: a raw store GET of the same keys (SQLiteStore.get in process,
or one Redis GET over loopback), with no HTTP and no API around it. Load comes from `wrk` (Debian
package) at fixed connection counts, and from an open-loop asyncio client at a fixed request rate
(latency is measured from the scheduled send time, so queueing shows).
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from intentkg.serve.keys import encode  # noqa: E402
from intentkg.serve.runtime import open_store  # noqa: E402

KEYS = 200_000


def _items(generation: int):
    for i in range(KEYS):
        facts = [{"relation": "used_for_event", "intention": f"intent {i % 997} g{generation}", "score": 0.9,
                  "source": "query", "intention_id": f"intention:{i % 997:016x}", "neighbour": ""}] * 5
        yield f"q:query {i}", encode("query", f"query {i}", facts, "tier1")


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
        key = f"q:query {rng.randrange(KEYS)}"
        t = time.perf_counter()
        store.get(key)
        lat.append(time.perf_counter() - t)
    arr = np.array(lat) * 1000
    return {"ops_per_s": len(lat) / seconds, "p50_ms": float(np.percentile(arr, 50)),
            "p99_ms": float(np.percentile(arr, 99))}


WRK_SCRIPT = """
math.randomseed(7)
request = function()
  return wrk.format("GET", "/v1/knowledge/query?q=query%20" .. math.random(0, KEYMAX))
end
"""


def wrk(url: str, connections: int, seconds: int, script: Path) -> dict:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
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
            "non_2xx": int(errors.group(1)) if errors else 0, "socket_errors": socket_errors.group(1) if socket_errors else ""}


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
                status, body = await _get(reader, writer, f"/v1/knowledge/query?q=query%20{rng.randrange(KEYS)}")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis", action="store_true", help="use a local redis-server as the store")
    parser.add_argument("--soak", type=int, default=0, help="soak seconds at --soak-rate (0 = skip)")
    parser.add_argument("--soak-rate", type=float, default=200)
    parser.add_argument("--rate", type=float, default=1000)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    redis_proc, redis_url = None, None
    if args.redis:
        port = _port()
        redis_proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                       "--appendonly", "no", "--dir", str(work)], stdout=subprocess.DEVNULL)
        redis_url = f"redis://127.0.0.1:{port}/0"
        from intentkg.serve.redis_store import wait_for

        wait_for(redis_url)
    store, writer, _ = open_store(work, redis_url)
    t = time.perf_counter()
    writer.write_snapshot(_items(0))
    print(f"snapshot of {KEYS:,} keys written in {time.perf_counter() - t:.1f} s", flush=True)
    baseline = raw_get(store)
    print("raw store GET (baseline):", json.dumps(baseline), flush=True)

    port = _port()
    command = [sys.executable, "-m", "intentkg.cli.main", "serve", "run", "-w", str(work), "--port", str(port)]
    if redis_url:
        command += ["--redis", redis_url]
    server_log = open(work / "server.log", "wb")  # a file, not a pipe nobody reads: a full pipe blocks the server
    server = subprocess.Popen(command, env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
                              stdout=server_log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(200):
        try:
            httpx.get(url + "/health", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    script = work / "keys.lua"
    script.write_text(WRK_SCRIPT.replace("KEYMAX", str(KEYS - 1)))
    try:
        ladder = []
        for connections in (1, 4, 16, 64):
            result = wrk(url, connections, 8, script)
            ladder.append(result)
            print("wrk:", json.dumps(result), flush=True)
        fixed = asyncio.run(fixed_rate(url, args.rate, 10))
        print("fixed rate:", json.dumps(fixed), flush=True)
        best = max(r["rps"] for r in ladder)
        print(f"\nstore: {'redis' if redis_url else 'sqlite (embedded)'}")
        print(f"raw GET: {baseline['ops_per_s']:,.0f} ops/s, p99 {baseline['p99_ms']:.3f} ms")
        for r in ladder:
            print(f"HTTP c={r['connections']:>3}: {r['rps']:>8,.0f} req/s  p50 {r['p50_ms']:.2f} ms  "
                  f"p99 {r['p99_ms']:.2f} ms  non-2xx {r['non_2xx']}")
        print(f"fixed {fixed['rate']:.0f} req/s: achieved {fixed['achieved_rps']:,.0f}, p50 {fixed['p50_ms']:.2f} ms, "
              f"p99 {fixed['p99_ms']:.2f} ms, errors {fixed['errors']}")
        print(f"throughput ratio (best HTTP / raw GET): {best / baseline['ops_per_s']:.3f}")
        if args.soak:
            rss = [_rss_mb(server.pid)]
            samples = []

            def swap():
                t0 = time.perf_counter()
                writer.write_snapshot(_items(1))
                samples.append(("refresh_s", time.perf_counter() - t0))

            async def soak():
                async def sample():
                    while True:
                        await asyncio.sleep(10)
                        rss.append(_rss_mb(server.pid))
                sampler = asyncio.create_task(sample())
                result = await fixed_rate(url, args.soak_rate, args.soak, on_half=swap)
                sampler.cancel()
                return result

            result = asyncio.run(soak())
            rss.append(_rss_mb(server.pid))
            print("soak:", json.dumps(result), flush=True)
            print(f"soak {args.soak} s at {args.soak_rate:.0f} req/s with a refresh at the middle "
                  f"({dict(samples).get('refresh_s', float('nan')):.1f} s to write and swap): errors {result['errors']}, "
                  f"p99 {result['p99_ms']:.2f} ms, server RSS start {rss[0]:.0f} MB / max {max(rss):.0f} MB / "
                  f"end {rss[-1]:.0f} MB")
    finally:
        log = (work / "server.log").read_text(errors="replace")
        if log.strip():
            print("server log (last lines):\n" + "\n".join(log.splitlines()[-5:]))
        server.terminate()
        server.wait(timeout=10)
        if redis_proc:
            redis_proc.terminate()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
