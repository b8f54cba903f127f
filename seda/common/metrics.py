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
    Gauge,
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
# Load: sockets held, turns waited for and refused, 503s by what caused them, the database pool.
SOCKETS_CONNECTED = Gauge(
    "seda_sockets_connected", "Socket.IO connections on /chat held now", multiprocess_mode="livesum"
)
ADMISSION_WAIT = Histogram(
    "seda_admission_wait_seconds",
    "How long a request or socket event waited for its turn (those that waited)",
    ["lane"],
    buckets=(0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 15, 30),
)
ADMISSION_REFUSED = Counter(
    "seda_admission_refused_total", "Requests and socket events refused after waiting their limit", ["lane"]
)
UNAVAILABLE = Counter(
    "seda_unavailable_total",
    "503 answers (REST and socket events) by cause",
    ["cause"],  # server_busy | database_busy | database_unavailable
)
DATABASE_POOL = Gauge(
    "seda_database_pool_connections",
    "This process's database connections by state",
    ["state"],  # checked_out | idle | overflow
    multiprocess_mode="livesum",
)
CELERY_TASKS = Counter("seda_celery_tasks_total", "Celery tasks finished by outcome", ["task", "outcome"])


_UNAVAILABLE_CAUSES = {
    "Server busy, retry": "server_busy",
    "Database busy, retry shortly": "database_busy",
    "Database unavailable": "database_unavailable",
}


def count_unavailable(message):
    """A 503 answered (REST or a socket event), counted by its cause."""
    UNAVAILABLE.labels(_UNAVAILABLE_CAUSES.get(message, "other")).inc()


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


def render_metrics(pool=None):
    """Return the exposition text and its content type; `pool`: this process's database pool,
    read now."""
    if pool is not None and hasattr(pool, "checkedout"):
        DATABASE_POOL.labels("checked_out").set(pool.checkedout())
        DATABASE_POOL.labels("idle").set(pool.checkedin())
        DATABASE_POOL.labels("overflow").set(max(0, pool.overflow()))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
