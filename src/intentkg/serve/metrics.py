"""Request metrics: hit rate by endpoint and a latency histogram, as JSON or Prometheus text.

With several worker processes each counts its own; :meth:`Metrics.state` is the plain form a worker
writes out and :meth:`Metrics.merged` sums such states (:mod:`intentkg.serve.worker_metrics`).

A hit on a query or a product (the most frequent request; from the response cache about a
microsecond of Python) is counted by :meth:`Metrics.hit` into a fixed row of integers per endpoint,
without the lock or a counter update: only the event loop's thread (the fast path and the FastAPI
routes, which are async) writes those rows, and readers (the metrics pages, the worker file written
from a thread) copy a row whole and add it to the totals."""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import Counter

BUCKETS_MS = (0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000)
FIRST_BUCKET_MS = BUCKETS_MS[0]
HIT_ENDPOINTS = ("query", "product")  # the endpoints whose hits are counted by Metrics.hit


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter = Counter()
        self.outcomes: Counter = Counter()  # (endpoint, hit|miss)
        self.errors: Counter = Counter()
        self.buckets = [0] * (len(BUCKETS_MS) + 1)
        self.latency_sum_ms = 0.0
        # endpoint -> [count per latency bucket ..., latency sum in ms]: see hit
        self._hits = {endpoint: [0] * (len(BUCKETS_MS) + 1) + [0.0] for endpoint in HIT_ENDPOINTS}

    def observe(self, endpoint: str, ms: float, outcome: str | None = None, status: int = 200) -> None:
        with self._lock:
            self.requests[endpoint] += 1
            if outcome:
                self.outcomes[(endpoint, outcome)] += 1
            if status >= 400:
                self.errors[(endpoint, status)] += 1
            self.buckets[bisect_left(BUCKETS_MS, ms)] += 1
            self.latency_sum_ms += ms

    def hit(self, endpoint: str, ms: float) -> None:
        """A hit on ``endpoint`` ("query" or "product"), answered in ``ms``. Call it from the event
        loop's thread only (the one writer of these rows): it takes no lock."""
        row = self._hits[endpoint]
        if ms <= FIRST_BUCKET_MS:  # nearly always: a cached answer takes microseconds
            row[0] += 1
        else:
            row[bisect_left(BUCKETS_MS, ms)] += 1
        row[-1] += ms

    def _totals(self) -> tuple[Counter, Counter, list[int], float]:
        """(requests, outcomes, buckets, latency sum) with the hit rows added; hold the lock."""
        requests, outcomes = Counter(self.requests), Counter(self.outcomes)
        buckets, latency = list(self.buckets), self.latency_sum_ms
        for endpoint, row in self._hits.items():
            row = list(row)  # one copy: the loop's thread may count meanwhile
            hits = sum(row[:-1])
            if hits:
                requests[endpoint] += hits
                outcomes[(endpoint, "hit")] += hits
                buckets = [a + b for a, b in zip(buckets, row)]
                latency += row[-1]
        return requests, outcomes, buckets, latency

    def error(self, endpoint: str, status: int) -> None:
        """A request refused or failed before it was answered (4xx/5xx)."""
        with self._lock:
            self.requests[endpoint] += 1
            self.errors[(endpoint, status)] += 1

    def state(self) -> dict:
        """The raw counts, JSON-ready, for another process to sum with :meth:`merged`."""
        with self._lock:
            requests, outcomes, buckets, latency = self._totals()
            return {"requests": dict(requests),
                    "outcomes": [[e, o, v] for (e, o), v in outcomes.items()],
                    "errors": [[e, s, v] for (e, s), v in self.errors.items()],
                    "buckets": buckets, "latency_sum_ms": latency}

    @classmethod
    def merged(cls, states: list[dict]) -> "Metrics":
        """One Metrics holding the sum of ``states`` (each from :meth:`state`)."""
        total = cls()
        for state in states:
            total.requests.update(state["requests"])
            total.outcomes.update({(e, o): v for e, o, v in state["outcomes"]})
            total.errors.update({(e, int(s)): v for e, s, v in state["errors"]})
            total.buckets = [a + b for a, b in zip(total.buckets, state["buckets"])]
            total.latency_sum_ms += state["latency_sum_ms"]
        return total

    def snapshot(self) -> dict:
        return self._summary()[0]

    def _summary(self) -> tuple[dict, float, list]:
        """(the snapshot, the latency sum in ms, the errors), all from one reading."""
        with self._lock:
            requests, outcomes, buckets, latency = self._totals()
            errors = list(self.errors.items())
        hits = sum(v for (e, o), v in outcomes.items() if o == "hit")
        looked = sum(outcomes.values())
        total = sum(buckets)
        cumulative, histogram = 0, {}
        for bound, count in zip([*map(str, BUCKETS_MS), "+Inf"], buckets):
            cumulative += count
            histogram[bound] = cumulative
        return {
            "requests": dict(requests),
            "lookups": looked,
            "hit_rate": hits / looked if looked else None,
            "outcomes": {f"{e}:{o}": v for (e, o), v in outcomes.items()},
            "errors": {f"{e}:{s}": v for (e, s), v in errors},
            "latency_ms_histogram": histogram,
            "latency_ms_mean": latency / total if total else None,
        }, latency, errors

    def prometheus(self, background: dict | None = None) -> str:
        data, latency_sum, errors = self._summary()
        lines = ["# TYPE intentkg_requests_total counter"]
        lines += [f'intentkg_requests_total{{endpoint="{e}"}} {v}' for e, v in data["requests"].items()]
        lines.append("# TYPE intentkg_lookups_total counter")
        for key, v in data["outcomes"].items():
            endpoint, outcome = key.split(":")
            lines.append(f'intentkg_lookups_total{{endpoint="{endpoint}",outcome="{outcome}"}} {v}')
        lines.append("# TYPE intentkg_errors_total counter")
        for (endpoint, status), v in sorted(errors):
            lines.append(f'intentkg_errors_total{{endpoint="{endpoint}",status="{status}"}} {v}')
        lines.append("# TYPE intentkg_request_latency_ms histogram")
        lines += [f'intentkg_request_latency_ms_bucket{{le="{b}"}} {v}' for b, v in
                  data["latency_ms_histogram"].items()]
        lines.append(f"intentkg_request_latency_ms_sum {latency_sum}")
        lines.append(f"intentkg_request_latency_ms_count {data['latency_ms_histogram']['+Inf']}")
        if background is not None:
            lines.append("# TYPE intentkg_background_errors_total counter")
            lines += [f'intentkg_background_errors_total{{step="{name}"}} {s["errors"]}'
                      for name, s in background["steps"].items()]
            lines.append("# TYPE intentkg_background_failing gauge")
            lines += [f'intentkg_background_failing{{step="{name}"}} {int(s["consecutive_errors"] > 0)}'
                      for name, s in background["steps"].items()]
            lines.append("# TYPE intentkg_misses_held_in_memory gauge")
            lines.append(f"intentkg_misses_held_in_memory {background['misses_held_in_memory']}")
            lines.append("# TYPE intentkg_misses_refused_total counter")
            lines += [f'intentkg_misses_refused_total{{reason="{reason}"}} {v}'
                      for reason, v in sorted(background["misses_refused"].items())]
        return "\n".join(lines) + "\n"
