"""Hits answered from the response cache (``Metrics.hit``, counted without the lock) show in
every view of the metrics exactly as the same hits counted by ``observe`` would."""

import threading

from intentkg.serve.metrics import Metrics

LATENCIES = [0.002, 0.3, 0.5, 0.7, 3.0, 2000.0]


def test_hits_count_as_observed_hits_in_every_view():
    cached, observed = Metrics(), Metrics()
    for ms in LATENCIES:
        cached.hit("query", ms)
        observed.observe("query", ms, "hit")
    cached.hit("product", 0.01)
    observed.observe("product", 0.01, "hit")
    for m in (cached, observed):
        m.observe("query", 4.0, "miss")
        m.error("pair", 422)
    assert cached.snapshot() == observed.snapshot()
    assert cached.snapshot()["latency_ms_histogram"]["0.5"] == 4  # 0.5 ms is in the first bucket (le)
    assert sorted(cached.prometheus().splitlines()) == sorted(observed.prometheus().splitlines())
    assert Metrics.merged([cached.state(), cached.state()]).snapshot() == \
        Metrics.merged([observed.state(), observed.state()]).snapshot()
    assert cached.snapshot()["requests"] == {"query": 7, "product": 1, "pair": 1}


def test_no_hit_adds_nothing():
    m = Metrics()
    m.observe("pair", 1.0, "hit")
    assert m.snapshot()["requests"] == {"pair": 1} and m.state()["outcomes"] == [["pair", "hit", 1]]


def test_hits_are_exact_while_another_thread_reads_the_metrics():
    """The worker file is written from a thread while the loop's thread counts."""
    m, stop, errors = Metrics(), threading.Event(), []

    def read():
        while not stop.is_set():
            try:
                m.state()
                m.prometheus()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(200_000):
        m.hit("query" if i % 2 else "product", 0.01)
    stop.set()
    reader.join()
    assert errors == [] and m.snapshot()["requests"] == {"query": 100_000, "product": 100_000}
