"""Prometheus metrics: request count and latency by route template, plus feature counters.

Labels use the URL rule (`/api/v1/chat/rooms/<room_id>`), never the raw path, so ids in paths
cannot blow up the number of series. With PROMETHEUS_MULTIPROC_DIR set, every gunicorn process
writes its samples there and `/metrics` aggregates them.
"""

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

HTTP_REQUESTS = Counter("seda_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "seda_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# Counters that features add; labels are small closed sets, never ids.
MESSAGES_STORED = Counter("seda_messages_stored_total", "Chat messages stored", ["via"])
SOCKET_EVENTS = Counter("seda_socket_events_total", "Socket.IO client events handled", ["event", "outcome"])
VERIFICATION_CHECKS = Counter("seda_verification_checks_total", "Verification checks finished", ["outcome"])
UNFURLS = Counter("seda_unfurls_total", "Track unfurls", ["provider", "outcome"])


_request_series = {}  # (method, route, status) -> (count, latency): labels() locks and builds a key per call


def observe_request(method, route, status, seconds):
    series = _request_series.get((method, route, status))
    if series is None:
        series = _request_series[(method, route, status)] = (
            HTTP_REQUESTS.labels(method, route, str(status)),
            HTTP_LATENCY.labels(method, route),
        )
    count, latency = series
    count.inc()
    latency.observe(seconds)


def render_metrics():
    """Return the exposition text and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
