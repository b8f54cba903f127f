"""Per-request plumbing: request id, access log line, metrics, response headers."""

import logging
import time

from flask import g, request

from seda.common import metrics
from seda.common.request_id import accept_or_generate, bind_request_id, reset_request_id

access_log = logging.getLogger("seda.access")


def init_request_hooks(app):
    app.before_request(_start_request)
    app.after_request(_finish_response)
    app.teardown_request(_end_request)


def _start_request():
    g.request_started = time.perf_counter()
    g.request_id = accept_or_generate(request.headers.get("X-Request-ID"))
    g.request_id_token = bind_request_id(g.request_id)


# The only answers that carry Retry-After: API.md §1 names 429 and 503, §3 a 502 of an
# unreachable music provider.
RETRY_LATER = {429, 502, 503}


def _finish_response(response):
    now = time.perf_counter()
    duration = now - g.get("request_started", now)
    headers = response.headers
    headers["X-Request-ID"] = g.get("request_id") or accept_or_generate(None)
    if "X-Content-Type-Options" not in headers:
        headers["X-Content-Type-Options"] = "nosniff"
    path = request.path
    if path.startswith("/api/") and not path.startswith("/api/docs") and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"  # responses carry private data; no shared cache may keep them
    if "Origin" in request.headers:
        response.vary.add("Origin")  # the CORS headers depend on it: no cache may mix origins up
    for name, value in g.get("override_headers", {}).items():
        headers[name] = value
    if response.status_code not in RETRY_LATER:
        headers.pop("Retry-After", None)  # Flask-Limiter writes one on every answer of a limited route
    route = request.url_rule.rule if request.url_rule else "<unmatched>"
    record_request(
        request.method,
        path,
        route,
        response.status_code,
        duration,
        request.headers.get("User-Agent", ""),
        request.remote_addr,
        g.get("caller_id"),
    )
    return response


def record_request(method, path, route, status, duration, user_agent, ip, user_id):
    """A request's metrics and its access line (the line only when INFO is on)."""
    metrics.observe_request(method, route, status, duration)
    if access_log.isEnabledFor(logging.INFO):
        access_log.info(
            "request",
            extra={
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(duration * 1000, 2),
                "user_agent": user_agent,
                "ip": ip,
                "user_id": user_id,
            },
        )


def _end_request(_exc):
    token = g.pop("request_id_token", None)
    if token is not None:
        reset_request_id(token)
