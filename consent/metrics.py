"""Prometheus metrics: requests and their latency per endpoint, decisions recorded, bots turned away, rate-limit
hits, and how far the consent logs' sequencer lags behind.

Under gunicorn every worker counts in its own process; with ``PROMETHEUS_MULTIPROC_DIR`` set (the shipped
gunicorn configuration sets it) the workers' counts are kept in files there and ``/metrics``, served by any worker,
adds them up. Without it (one process: ``flask cmp serve``, tests) the default registry is used.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

REQUESTS = Counter("cmp_http_requests_total", "HTTP requests answered.", ["endpoint", "method", "status"])
LATENCY = Histogram(
    "cmp_http_request_duration_seconds",
    "Time to answer an HTTP request, from the WSGI call to the start of the answer (for a stream, its first byte).",
    ["endpoint"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
DECISIONS = Counter("cmp_decisions_recorded_total", "Visitors' decisions recorded.", ["site", "method"])
BOTS = Counter("cmp_bots_refused_total", "Decisions posted by bots, answered and not recorded.", ["site"])
RATE_LIMITED = Counter("cmp_rate_limited_total", "Requests refused by a rate limit.", ["endpoint"])
DATABASE_DOWN = Counter("cmp_database_unavailable_total", "Requests answered 503: the database was unreachable.")


class LogLag(Collector):
    """Read at scrape time from the database: records waiting for their log position, and the age of the oldest."""

    def __init__(self, read):
        self.read = read  # () -> (pending count, age in seconds of the oldest, or 0)

    def collect(self):
        pending, age = self.read()
        waiting = GaugeMetricFamily("cmp_log_pending_records", "Recorded decisions not yet in their site's log.")
        waiting.add_metric([], pending)
        lag = GaugeMetricFamily(
            "cmp_log_checkpoint_lag_seconds",
            "Age of the oldest recorded decision that no checkpoint covers yet (0 when none waits).",
        )
        lag.add_metric([], age)
        return [waiting, lag]


def exposition(*collectors: Collector) -> tuple[bytes, str]:
    """The metrics of every worker of this server (or of this process alone), with ``collectors`` read now."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        for collector in collectors:
            registry.register(collector)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    scrape = CollectorRegistry()
    for collector in collectors:
        scrape.register(collector)
    return generate_latest(REGISTRY) + generate_latest(scrape), CONTENT_TYPE_LATEST
