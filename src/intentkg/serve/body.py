"""The JSON bytes of a knowledge answer (``/v1/knowledge/query`` and ``/product/{id}``), as
``json.dumps`` of the head writes them, with the cached entry (already JSON) spliced in instead of
decoded and re-encoded. One home for both who write it: the request path
(:mod:`intentkg.serve.answers`) and the snapshot writer, which precomputes every hit's body
(:mod:`intentkg.serve.hit_bodies`)."""

from __future__ import annotations

from json.encoder import encode_basestring as _string  # a JSON string, as json.dumps(ensure_ascii=False) writes it


def answer_body(key: str, shown: str, queued: bool, version: str | None, arm: tuple[str | None] | None,
                value: str | None) -> bytes:
    """``arm``: None outside an experiment, else a 1-tuple of the unit's arm (None: not in it)."""
    body = ('{"key": ' + _string(key) + ', "outcome": "' + shown + '", "queued": '
            + ("true" if queued else "false") + ', "version": '
            + (_string(version) if version is not None else "null"))
    if arm is not None:
        body += ', "arm": ' + (_string(arm[0]) if arm[0] is not None else "null")
    return (body + ',"entry":' + (value or "null") + "}").encode()


def hit_body(key: str, version: str, value: str) -> bytes:
    """The body of a hit on ``key`` outside an experiment: it depends on the key and the snapshot only."""
    return answer_body(key, "hit", False, version, None, value)
