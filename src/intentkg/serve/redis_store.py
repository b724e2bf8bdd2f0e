"""Redis store: snapshot keys live under ``<prefix>:<version>:``; ``<prefix>:current`` names the live
version. A GET is one Lua script (read the version, then the key), so it is atomic against a swap;
a refresh writes a whole new version, then swaps with one SET, then lets the old version expire.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from intentkg.serve.sqlite_store import ANONYMOUS, EXPIRE_AFTER, MAX_CLIENTS_PER_KEY, MAX_QUEUED_KEYS, new_version

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
    problem: str | None = None  # a swap is one SET: the live version is always a complete one

    def __init__(self, url: str, prefix: str = "intentkg"):
        self.redis = _client(url)
        self.prefix = prefix
        self._get = self.redis.register_script(GET_SCRIPT)

    def get(self, key: str) -> str | None:
        return self._get(keys=[f"{self.prefix}:current"], args=[self.prefix, key])

    def version(self) -> str | None:
        return self.redis.get(f"{self.prefix}:current")

    def view(self) -> "RedisSnapshotView":
        """The live version, pinned: later reads from the view use it even if a swap happens meanwhile
        (a replaced version stays readable for ``OLD_VERSION_TTL`` seconds)."""
        return RedisSnapshotView(self.redis, self.prefix, self.version())

    def close(self) -> None:
        self.redis.close()


class RedisSnapshotView:
    plain = False  # plain query keys (serve/plain_keys.py) are not recorded here: every query is scrubbed
    bodies = False  # nor hit bodies (serve/hit_bodies.py): every body is built from the entry

    def __init__(self, redis, prefix: str, version: str | None):
        self.redis, self.prefix, self.version = redis, prefix, version

    def get_plain(self, key: str) -> None:
        return None

    def hit_body(self, key: str) -> None:
        return None

    def get(self, key: str) -> str | None:
        return None if self.version is None else self.redis.get(f"{self.prefix}:{self.version}:{key}")


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


ADD_SCRIPT = """
local known = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not known and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
local new_client = 0
if redis.call('SCARD', KEYS[2]) < tonumber(ARGV[5]) then new_client = redis.call('SADD', KEYS[2], ARGV[2]) end
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[6]))
redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
redis.call('HSET', KEYS[4], ARGV[1], ARGV[4])
redis.call('ZINCRBY', KEYS[1], new_client * 1000000000 + 1, ARGV[1])
return 1
"""


class RedisMissQueue:
    """Same contract as :class:`SQLiteMissQueue`: rank by distinct clients, then hits; capped; expiring.

    ``<prefix>:misses`` is a sorted set scored clients * 1e9 + hits; ``misses:hits`` and
    ``misses:seen`` hashes hold the hit count and last time; ``misses:clients:<key>`` the hashed clients.
    """

    def __init__(self, url: str, prefix: str = "intentkg", max_keys: int = MAX_QUEUED_KEYS,
                 expire_after: float = EXPIRE_AFTER):
        self.redis = _client(url)
        self.key = f"{prefix}:misses"
        self.max_keys, self.expire_after = max_keys, expire_after
        self._add = self.redis.register_script(ADD_SCRIPT)
        self.refused_full = 0

    def add(self, key: str, client: str = ANONYMOUS) -> None:
        added = self._add(keys=[self.key, f"{self.key}:clients:{key}", f"{self.key}:hits", f"{self.key}:seen"],
                          args=[key, client, self.max_keys, time.time(), MAX_CLIENTS_PER_KEY,
                                max(1, int(self.expire_after * 1000))])
        if not added:
            self.refused_full += 1

    def held(self) -> int:
        return 0  # every add is written at once

    def flush(self) -> None:
        return None

    def _expire(self) -> None:
        cutoff = time.time() - self.expire_after
        old = [k for k, seen in self.redis.hgetall(f"{self.key}:seen").items() if float(seen) < cutoff]
        if old:
            self.done(old)

    def pending(self, limit: int | None = None) -> list[tuple[str, int]]:
        self._expire()
        keys = [k for k, _ in self.redis.zrevrange(self.key, 0, (limit - 1) if limit else -1, withscores=True)]
        hits = self.redis.hmget(f"{self.key}:hits", keys) if keys else []
        return list(zip(keys, [int(h or 0) for h in hits]))  # the score orders by clients, then hits

    def clients(self, key: str) -> int:
        return int(self.redis.scard(f"{self.key}:clients:{key}"))

    def done(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        if keys:
            pipe = self.redis.pipeline(transaction=False)
            pipe.zrem(self.key, *keys)
            pipe.hdel(f"{self.key}:hits", *keys)
            pipe.hdel(f"{self.key}:seen", *keys)
            pipe.delete(*[f"{self.key}:clients:{k}" for k in keys])
            pipe.execute()


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
