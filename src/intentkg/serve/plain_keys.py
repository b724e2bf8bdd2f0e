"""Plain query keys: cache keys that a raw query may be looked up by as it is, without the PII scrub.

A query is answered from the entry of its key, ``"q:" + clean_query(q).key`` (scrubbed, then
normalised: :mod:`intentkg.query_key`), and is kept in the response cache only when the scrub
found nothing in it. A snapshot key ``"q:" + k`` is **plain** when

    clean_query(k) holds key == k and found == ()      (k is a fixed point of the scrub)
    and needs_analyzer(k) is False                      (the pre-check proves no recogniser matches)

checked by :func:`is_plain_query_key` when the snapshot is written, for every key, and recorded
beside it, with the :func:`scrub_identity` of the process that checked it. The claim, for a raw
query ``q`` whose ``"q:" + q`` is a plain key ``"q:" + k`` of the snapshot:

    q == k, so clean_query(q) == clean_query(k): its key is k and the scrub finds nothing in it,

so the scrub-then-lookup path would read the entry of ``"q:" + k``, answer a hit with key
``"q:" + k`` and keep it in the response cache: exactly what looking ``"q:" + q`` up directly
answers. Nothing else differs: a hit queues nothing, and what it logs (the metrics' counts, an
experiment's exposure with the key) is the same key. Any other query (not a plain key of the live
snapshot: a miss, a query with capitals or extra spaces, one that may hold personal data) goes
through the scrub before anything is looked up, queued or logged, as before.

The proof needs the scrub that checked the keys to be the scrub that serves: :func:`scrub_identity`
names it (the scrub's description with its model setting, the source of the code that scrubs and
normalises, and the versions of the libraries it runs on), and a reader uses a snapshot's plain
keys only when the identity recorded in the snapshot is its own, read when it opens the snapshot
(``INTENTKG_PII_MODEL`` is a setting of the process: every stage must run with the same one).
A snapshot written before this, or by another scrub, is served as before, every query scrubbed.
Keys the analyzer would look at are never plain (checking them costs the analyzer, ~0.5 ms a key,
and is where a scrub may depend on context), so with a model configured no key is plain.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from intentkg.pii import description
from intentkg.pii.engine import model_setting
from intentkg.pii.scrub import needs_analyzer
from intentkg.query_key import clean_query

QUERY_PREFIX = "q:"
LIBRARIES = ("presidio-analyzer", "phonenumbers", "spacy", "tldextract")  # what the recognisers run on


def _sources() -> list[Path]:
    """The code that turns a raw query into its key: the scrub package and the normalisation."""
    import intentkg.pii
    import intentkg.query_key

    return sorted(Path(intentkg.pii.__file__).parent.glob("*.py")) + [Path(intentkg.query_key.__file__)]


def scrub_identity() -> str:
    """What decides a query's key in this process, as one string: equal strings, equal keys."""
    return _identity(model_setting())


@lru_cache(maxsize=8)
def _identity(model: str) -> str:
    digest = hashlib.sha256()
    for path in _sources():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return json.dumps({**description(model), "sources": digest.hexdigest(), "libraries": versions}, sort_keys=True)


def is_plain_query_key(key: str) -> bool:
    """Whether ``key`` is a query key that a raw query equal to its text may be looked up by unscrubbed
    (under this process's scrub)."""
    if not key.startswith(QUERY_PREFIX):
        return False
    text = key[len(QUERY_PREFIX):]
    if not text or needs_analyzer(text, model_setting()):
        return False
    cleaned = clean_query(text)
    return cleaned.key == text and not cleaned.found
