"""Recently answered hits, as the response bytes, for one snapshot version: a repeated request for a
head query or product is answered without the PII scrub, the store GET or building the body.

Only what cannot differ between two identical requests is kept: hits (a miss queues the key and
counts the client), outside an experiment (an answer depends on the unit's arm), and for a query
only when the scrub found nothing in it (no raw query holding personal data is kept). A new
snapshot version empties the cache; at most ``max_bytes`` of bodies and keys are held, the least
recently used going first. The request is still counted in the metrics as the hit it is: an entry
is (endpoint, body, its size), so a hit is answered and counted without looking at the path again,
and the entry a put pushes out is subtracted without measuring it again.
"""

from __future__ import annotations

from collections import OrderedDict

ENTRY_OVERHEAD = 200  # bytes an entry costs beyond its body and key (dict slot, tuple, objects)


class ResponseCache:
    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.version: str | None = None
        self.bytes = 0
        self._bodies: OrderedDict[tuple[str, str], tuple[str, bytes, int]] = OrderedDict()

    def get(self, version: str | None, key: tuple[str, str]) -> tuple[str, bytes, int] | None:
        """(endpoint, body, size) kept for ``key`` (path, raw query string) in snapshot ``version``, or None."""
        if version != self.version:
            self._bodies.clear()
            self.version, self.bytes = version, 0
            return None
        entry = self._bodies.get(key)
        if entry is not None:
            self._bodies.move_to_end(key)
        return entry

    def put(self, version: str | None, key: tuple[str, str], endpoint: str, body: bytes, evict: bool = True) -> None:
        """Keep ``body``; ``evict=False``: only if it fits without pushing another answer out."""
        size = len(body) + len(key[0]) + len(key[1]) + ENTRY_OVERHEAD
        if version != self.version or size > (self.max_bytes if evict else self.max_bytes - self.bytes) \
                or key in self._bodies:
            return
        self._bodies[key] = (endpoint, body, size)
        self.bytes += size
        while self.bytes > self.max_bytes:
            self.bytes -= self._bodies.popitem(last=False)[1][2]

    def __len__(self) -> int:
        return len(self._bodies)
