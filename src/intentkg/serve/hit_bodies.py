"""Hit bodies: every response body a snapshot can answer to a plain query or a product outside an
experiment, precomputed when the snapshot is written and read through a memory map.

A hit on ``/v1/knowledge/query`` or ``/product/{id}`` outside an experiment answers bytes that
depend on the key and the snapshot only (:func:`intentkg.serve.body.hit_body`). Looking the entry
up in SQLite and building the body around it cost a request that misses the response cache about
5 µs of CPU, most of it the B-tree's pages (a random key of 200,000 is a walk through pages the
CPU's caches do not hold) and the statement's bookkeeping. So the snapshot writer derives, from
the finished SQLite file, one more file beside it, ``<version>.bodies``, holding the body of every
key a request can be answered from without the scrub:

- ``q:<k>`` where ``k`` is a plain key (:mod:`intentkg.serve.plain_keys`) that ``check_query``
  accepts (1-500 characters, not blank): a raw query ``k`` is answered by it without the scrub;
- ``p:<id>`` where ``id`` is a product id ``check_product`` accepts: the key of a request for that
  id is ``"p:" + id``.

Layout (native byte order, checked by a marker): a 64-byte header (magic, marker, entries, slots,
where the table starts, the version's length), the snapshot's version, the records (each key's
UTF-8 then its body), then an open-addressing hash table of a power of two slots, at least twice the
entries, each two 64-bit words: ``record offset << 16 | key length`` (0: empty) and
``body length << 32 | CRC-32 of the key``. A key's first slot is its CRC's low bits, then the next
ones (linear probing, placed in the key's order when written). A lookup reads one slot (about 1.5 on
average at half load), compares the CRC, then the key, and slices the body out of the map: two or
three cache lines before the body, no allocation but the key's bytes and the body. The SQLite file stays the snapshot (items, pair
lookups, every other key); this file is derived from it and is used only when its header names the
same version. A snapshot without one (written before, or a store that does not write one) is
served from SQLite as before.
"""

from __future__ import annotations

import mmap
import sqlite3
import struct
import zlib
from pathlib import Path

import numpy as np

from intentkg.serve.body import hit_body
from intentkg.serve.keys import MAX_QUERY_CHARS, PRODUCT_ID
from intentkg.serve.plain_keys import QUERY_PREFIX

MAGIC = b"IKGBODY2"
MARKER = 0x01020304  # read back as another number when the file was written in the other byte order
HEADER = struct.Struct("=8sIIQQQQ16x")  # magic, marker, pad, entries, slots, table offset, version length
PRODUCT_PREFIX = "p:"
SUFFIX = ".bodies"
MAX_KEY_BYTES = 0xFFFF  # a key's length is 16 bits of its slot (a query key is at most 2,002 bytes)
CRC = 0xFFFFFFFF


def bodies_path(snapshot: Path) -> Path:
    """The hit bodies file of the SQLite snapshot at ``snapshot``."""
    return snapshot.with_suffix(SUFFIX)


def answerable(key: str, plain: bool) -> bool:
    """Whether a request is answered from ``key``'s entry without the scrub and after the checks pass."""
    if key.startswith(QUERY_PREFIX):
        text = key[len(QUERY_PREFIX):]
        return plain and 0 < len(text) <= MAX_QUERY_CHARS and bool(text.strip())
    return key.startswith(PRODUCT_PREFIX) and PRODUCT_ID.fullmatch(key[len(PRODUCT_PREFIX):]) is not None


def _slots(places: np.ndarray, metas: np.ndarray) -> np.ndarray:
    """The hash table: a power of two of slots, at least twice the entries, each (place, meta), every
    entry at its CRC's slot or the next free one after it (linear probing, in the entries' order)."""
    count = len(places)
    size = 1 << max(2 * count - 1, 1).bit_length()
    table = np.zeros((size, 2), dtype=np.uint64)
    want = (metas & np.uint64(size - 1)).astype(np.int64)  # the CRC's low bits
    waiting = np.arange(count)
    while len(waiting):  # each round: every free wanted slot goes to its first claimant, the rest move on
        slot = want[waiting]
        free = table[slot, 0] == 0
        chosen, first = np.unique(slot[free], return_index=True)
        placed = waiting[free][first]
        table[chosen, 0], table[chosen, 1] = places[placed], metas[placed]
        done = np.zeros(count, dtype=bool)
        done[placed] = True
        waiting = waiting[~done[waiting]]
        want[waiting] = (want[waiting] + 1) & (size - 1)
    return table


def write_bodies(conn: sqlite3.Connection, path: Path, version: str) -> int:
    """Write the hit bodies of the snapshot in ``conn`` (table ``kv``: key, value, plain) to ``path``;
    the number of bodies."""
    version_bytes = version.encode()
    places, metas = [], []
    with open(path, "wb") as handle:
        handle.write(HEADER.pack(MAGIC, MARKER, 0, 0, 0, 0, len(version_bytes)) + version_bytes)
        offset = HEADER.size + len(version_bytes)
        for key, value, plain in conn.execute("SELECT key, value, plain FROM kv"):
            key_bytes = key.encode()
            if not answerable(key, bool(plain)) or len(key_bytes) > MAX_KEY_BYTES:
                continue
            body = hit_body(key, version, value)
            handle.write(key_bytes + body)
            places.append(offset << 16 | len(key_bytes))
            metas.append(len(body) << 32 | zlib.crc32(key_bytes))
            offset += len(key_bytes) + len(body)
        table_at = offset + (-offset) % 8
        handle.write(b"\0" * (table_at - offset))
        table = _slots(np.array(places, dtype=np.uint64), np.array(metas, dtype=np.uint64))
        handle.write(table.tobytes())
        handle.seek(0)
        handle.write(HEADER.pack(MAGIC, MARKER, 0, len(places), len(table), table_at, len(version_bytes)))
    return len(places)


class HitBodies:
    """The hit bodies of one snapshot, memory-mapped. Raises ``ValueError`` for a file that is not
    one of ``version``."""

    def __init__(self, path: Path, version: str):
        with open(path, "rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        self._slots = None
        try:
            if len(self._map) < HEADER.size:
                raise ValueError(f"{path} is truncated ({len(self._map)} bytes)")
            magic, marker, _, count, size, table_at, version_length = HEADER.unpack_from(self._map, 0)
            if magic != MAGIC or marker != MARKER:
                raise ValueError(f"{path} is not a hit bodies file of this machine's byte order")
            if self._map[HEADER.size:HEADER.size + version_length] != version.encode():
                raise ValueError(f"{path} is not the hit bodies of snapshot {version}")
            end = table_at + 16 * size
            if size & (size - 1) or size < 2 * count or end != len(self._map):
                raise ValueError(f"{path} is truncated or malformed ({len(self._map)} bytes, its table says {end})")
            view = memoryview(self._map)
            self._slots = view[table_at:end].cast("Q")
            view.release()
        except BaseException:
            self.close()
            raise
        self._mask, self.count = 2 * size - 1, count  # over the words: a slot is two

    def get(self, key: str) -> bytes | None:
        """The body of a hit on ``key``, or None when the file holds none for it."""
        key_bytes = key.encode()
        crc = zlib.crc32(key_bytes)
        slots, mask = self._slots, self._mask
        word = (crc << 1) & mask
        place = slots[word]
        while place:
            meta = slots[word + 1]
            if meta & CRC == crc and place & MAX_KEY_BYTES == len(key_bytes):
                at = place >> 16
                if self._map[at:at + len(key_bytes)] == key_bytes:
                    at += len(key_bytes)
                    return self._map[at:at + (meta >> 32)]
            word = (word + 2) & mask
            place = slots[word]
        return None

    def close(self) -> None:
        if self._slots is not None:
            self._slots.release()
        self._map.close()
