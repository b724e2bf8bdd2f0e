"""Redis store: snapshot keys live under ``<prefix>:<version>:``; ``<prefix>:current`` names the live
version. A GET is one Lua script (read the version, then the key), so it is atomic against a swap;
a refresh writes a whole new version, then swaps with one SET, then lets the old version expire.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from intentkg.serve.sqlite_store import new_version

GET_SCRIPT = """
local version = redis.call('GET', KEYS[1])
if not version then return false end
return redis.call('GET', ARGV[1] .. ':' .. version .. ':' .. ARGV[2])
"""
OLD_VERSION_TTL = 120  # seconds a replaced snapshot stays readable for in-flight requests


def _client(url: str):
    import redis

    return redis.Redis.from_url(url, decode_responses=True)


class RedisStore:
    def __init__(self, url: str, prefix: str = "intentkg"):
        self.redis = _client(url)
        self.prefix = prefix
        self._get = self.redis.register_script(GET_SCRIPT)

    def get(self, key: str) -> str | None:
        return self._get(keys=[f"{self.prefix}:current"], args=[self.prefix, key])

    def version(self) -> str | None:
        return self.redis.get(f"{self.prefix}:current")

    def close(self) -> None:
        self.redis.close()


class RedisSnapshotWriter:
    def __init__(self, url: str, prefix: str = "intentkg"):
        self.redis = _client(url)
        self.prefix = prefix

    def write_snapshot(self, items: Iterable[tuple[str, str]]) -> str:
        version = new_version()
        pipe = self.redis.pipeline(transaction=False)
        n = 0
        for key, value in items:
            pipe.set(f"{self.prefix}:{version}:{key}", value)
            n += 1
            if n % 5_000 == 0:
                pipe.execute()
        pipe.execute()
        old = self.redis.getset(f"{self.prefix}:current", version)  # the atomic swap
        if old:
            self._expire(old)
        return version

    def _expire(self, version: str) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for key in self.redis.scan_iter(match=f"{self.prefix}:{version}:*", count=5_000):
            pipe.expire(key, OLD_VERSION_TTL)
        pipe.execute()

    def items(self) -> Iterable[tuple[str, str]]:
        version = self.redis.get(f"{self.prefix}:current")
        if not version:
            return
        start = len(f"{self.prefix}:{version}:")
        keys = list(self.redis.scan_iter(match=f"{self.prefix}:{version}:*", count=5_000))
        for i in range(0, len(keys), 1_000):
            chunk = keys[i:i + 1_000]
            for key, value in zip(chunk, self.redis.mget(chunk)):
                if value is not None:
                    yield key[start:], value


class RedisMissQueue:
    def __init__(self, url: str, prefix: str = "intentkg"):
        self.redis = _client(url)
        self.key = f"{prefix}:misses"

    def add(self, key: str) -> None:
        self.redis.zincrby(self.key, 1, key)

    def flush(self) -> None:
        return None

    def pending(self, limit: int | None = None) -> list[tuple[str, int]]:
        end = (limit - 1) if limit else -1
        return [(k, int(s)) for k, s in self.redis.zrevrange(self.key, 0, end, withscores=True)]

    def done(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        if keys:
            self.redis.zrem(self.key, *keys)


def wait_for(url: str, seconds: float = 10.0) -> None:
    """Block until a Redis server answers PING (used by tests and the CLI)."""
    deadline = time.monotonic() + seconds
    client = _client(url)
    while True:
        try:
            client.ping()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
