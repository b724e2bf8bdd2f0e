"""What the knowledge endpoints answer, with no web framework in it: check the parameters, pick the
experiment arm, read one pinned snapshot, queue an admitted miss, count the request, and build the
response body. Both the FastAPI routes (:mod:`intentkg.serve.app`, which also carry the OpenAPI docs
and answer every unusual request) and the raw fast path (:mod:`intentkg.serve.fast_path`, RSGI or ASGI)
call these methods, so the two cannot answer differently.

A bad parameter raises :class:`fastapi.HTTPException` *before* anything is read, queued, logged or
counted: the fast path hands such a request to FastAPI, which raises it again and counts it once.

A query that is itself a plain key of the live snapshot (:mod:`intentkg.serve.plain_keys`: a fixed
point of the scrub, checked when the snapshot was written by this process's scrub) is looked up
as it is: the scrub would give that key and find nothing, so the answer is the same. Every other
query is scrubbed before anything is looked up, queued or logged. Hits are counted without the
metrics' lock (:meth:`Metrics.hit`): call these methods from the event loop's thread, as both
servers do (one Python thread runs the app under Granian's RSGI or ASGI and under uvicorn).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException

from intentkg.serve.body import answer_body
from intentkg.serve.experiment import ServingExperiment
from intentkg.serve.keys import (MAX_QUERY_CHARS, PRODUCT_ID, decode, left_out_product_key, left_out_query_key,
                                 product_key, query_cache_key, query_cache_key_and_pii)
from intentkg.serve.metrics import Metrics
from intentkg.serve.miss_admission import MissAdmission
from intentkg.serve.plain_keys import QUERY_PREFIX
from intentkg.serve.store import KnowledgeStore, MissQueue, SnapshotReader

PairText = Callable[[dict | None, dict | None], str]


def check_query(q: str) -> str:
    if not q.strip():
        raise HTTPException(status_code=400, detail="q is empty: pass the search query, e.g. ?q=winter+camping")
    if len(q) > MAX_QUERY_CHARS:
        raise HTTPException(status_code=400, detail=f"q is longer than {MAX_QUERY_CHARS} characters")
    return q


def check_product(product_id: str) -> str:
    if not PRODUCT_ID.fullmatch(product_id):  # not match(): "$" would let a trailing newline through
        raise HTTPException(status_code=400,
                            detail="product_id must be 1-64 characters of letters, digits, '.', '_', ':' or '-'")
    return product_id


FLAG_VALUES = {"1": True, "true": True, "yes": True, "on": True, "t": True, "y": True,
               "0": False, "false": False, "no": False, "off": False, "f": False, "n": False}


def parse_flag(value: str | None) -> bool | None:
    """A boolean query parameter as FastAPI reads one (absent: False); None when it is not a boolean."""
    return False if value is None else FLAG_VALUES.get(value.strip().lower())


def json_body(content: dict[str, Any]) -> bytes:
    """The bytes FastAPI's JSONResponse renders for ``content`` (compact, UTF-8)."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


class KnowledgeAnswers:
    def __init__(self, store: KnowledgeStore, queue: MissQueue, metrics: Metrics, admission: MissAdmission,
                 pair_text: PairText, experiment: ServingExperiment | None = None):
        self.store, self.queue, self.metrics, self.admission = store, queue, metrics, admission
        self.pair_text, self.experiment = pair_text, experiment

    def _arm(self, unit_id: str | None, header: str | None):
        return self.experiment.assign(unit_id or header) if self.experiment is not None else None

    def _lookup(self, view: SnapshotReader, key: str, host: str | None) -> tuple[str | None, str, dict[str, Any]]:
        """(cached JSON text or None, hit|miss, extra fields), from one snapshot; a miss is queued
        when admitted (its nearest fallback, if any, is the refresh job's to compute)."""
        value = view.get(key)
        if value is not None:
            return value, "hit", {}
        client = self.admission.client_id(host)  # hashed only when needed: a hit never queues anything
        queued = self.admission.admit(key, client)
        if queued:
            self.queue.add(key, client)
        return None, "miss", {"queued": queued}

    def query(self, q: str, unit_id: str | None, header: str | None, host: str | None) -> bytes:
        return self.answer_query(q, unit_id, header, host)[0]

    def product(self, product_id: str, unit_id: str | None, header: str | None, host: str | None) -> bytes:
        return self.answer_product(product_id, unit_id, header, host)[0]

    def answer_query(self, q: str, unit_id: str | None, header: str | None,
                     host: str | None) -> tuple[bytes, str | None, bool]:
        """(body, the snapshot version when the body may be reused for the same request, else None:
        a hit outside an experiment, for a query in which the scrub found nothing; whether the body
        came from the snapshot's hit bodies, which answer it again about as cheaply as keeping it)."""
        started = time.perf_counter()
        q, unit = check_query(q), self._arm(unit_id, header)
        view = self.store.view()
        if view.plain:  # q may be a plain key: the scrub would give it and find nothing in it
            if view.bodies and self.experiment is None:  # the hit's body precomputed in the snapshot
                body = view.hit_body(QUERY_PREFIX + q)
                if body is not None:
                    self.metrics.hit("query", (time.perf_counter() - started) * 1000)
                    return body, view.version, True
                # not a plain key (the bodies hold every plain key check_query accepts): scrub it
            else:
                value = view.get_plain(QUERY_PREFIX + q)
                if value is not None:
                    return *self._answer("query", QUERY_PREFIX + q, started, unit, host, view, value), False
        key, personal = query_cache_key_and_pii(q)
        body, reusable = self._answer("query", key, started, unit, host, view)
        return body, (None if personal else reusable), False

    def plain_query_hit(self, q: str) -> tuple[bytes, str | None] | None:
        """(body, snapshot version) of a hit on ``q`` from the snapshot's hit bodies, counted; None
        (nothing read but the probe, nothing counted) when they hold no body for ``q``. Only outside an
        experiment. The bodies hold every plain key ``check_query`` accepts and nothing else, so a body
        found is what :meth:`answer_query` answers for ``q``, and None leaves it to that method."""
        started = time.perf_counter()
        view = self.store.view()
        if not (view.plain and view.bodies):
            return None
        body = view.hit_body(QUERY_PREFIX + q)
        if body is None:
            return None
        self.metrics.hit("query", (time.perf_counter() - started) * 1000)
        return body, view.version

    def answer_product(self, product_id: str, unit_id: str | None, header: str | None,
                       host: str | None) -> tuple[bytes, str | None, bool]:
        """As :meth:`answer_query`."""
        started = time.perf_counter()
        product_id, unit = check_product(product_id), self._arm(unit_id, header)
        if self.experiment is None:
            view = self.store.view()
            if view.bodies:  # a valid id has no spaces: its key is "p:" + id
                body = view.hit_body("p:" + product_id)
                if body is not None:
                    self.metrics.hit("product", (time.perf_counter() - started) * 1000)
                    return body, view.version, True
            return *self._answer("product", product_key(product_id), started, unit, host, view), False
        return *self._answer("product", product_key(product_id), started, unit, host), False

    def _answer(self, endpoint: str, key: str, started: float, unit, host: str | None,
                view: SnapshotReader | None = None, value: str | None = None) -> tuple[bytes, str | None]:
        """``value``: the entry of ``key`` already read from ``view`` (a hit), else looked up here."""
        if view is None:
            view = self.store.view()
        if value is None:
            value, outcome, extra = self._lookup(view, key, host)
        else:
            outcome, extra = "hit", {}
        shown = outcome
        if unit is not None:
            self.experiment.record(unit, endpoint, key, outcome)
            if not unit[1].knowledge:  # control: looked up and logged, but not shown
                value, shown = None, "withheld"
        body = answer_body(key, shown, bool(extra.get("queued")), view.version,
                           None if self.experiment is None else ((unit[1].arm if unit is not None else None),),
                           value)
        if outcome == "hit":
            self.metrics.hit(endpoint, (time.perf_counter() - started) * 1000)
        else:
            self.metrics.observe(endpoint, (time.perf_counter() - started) * 1000, outcome)
        reusable = view.version if outcome == "hit" and self.experiment is None else None
        return body, reusable

    def pair(self, q: str, product_id: str, unit_id: str | None, header: str | None,
             host: str | None, leave_out_query: bool = False) -> dict[str, Any]:
        """``leave_out_query``: the evaluation's leave-own-out (the knowledge as if ``q`` had never been
        logged), from the entries ``serve precompute --leave-out-query`` wrote; ``left_out`` in the
        answer says whether the snapshot had them for ``q`` (a query never logged has nothing to
        leave out: its plain knowledge is the left-out one)."""
        started = time.perf_counter()
        q, product_id, unit = check_query(q), check_product(product_id), self._arm(unit_id, header)
        view = self.store.view()  # both halves from the same snapshot
        left = {}
        query_value = view.get(left_out_query_key(q)) if leave_out_query else None
        if query_value is not None:  # a logged query, left out: its product side where it changed
            query_outcome, extra, left = "hit", {}, {"left_out": True}
            product_value = view.get(left_out_product_key(q, product_id))
            product_outcome = "hit"
            if product_value is None:
                product_value, product_outcome, _ = self._lookup(view, product_key(product_id), host)
        else:
            left = {"left_out": False} if leave_out_query else {}
            query_value, query_outcome, extra = self._lookup(view, query_cache_key(q), host)
            product_value, product_outcome, _ = self._lookup(view, product_key(product_id), host)
        extra.pop("queued", None)
        query_value = decode(query_value) if query_value else None
        product_value = decode(product_value) if product_value else None
        outcome = "hit" if query_outcome == "hit" and product_outcome == "hit" else (
            "partial" if "hit" in (query_outcome, product_outcome) else query_outcome)
        arm, withheld = ({"arm": None} if self.experiment is not None else {}), False
        if unit is not None:
            self.experiment.record(unit, "pair", query_cache_key(q) + " " + product_key(product_id), outcome)
            arm, withheld = {"arm": unit[1].arm}, not unit[1].knowledge
            if withheld:  # control: looked up and logged, but not shown
                outcome, extra = "withheld", {}
        self.metrics.observe("pair", (time.perf_counter() - started) * 1000, outcome)
        return {"query_outcome": query_outcome, "product_outcome": product_outcome, "version": view.version,
                "text": "" if withheld else self.pair_text(query_value, product_value), **arm, **extra, **left}
