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


def _finish_response(response):
    started = g.get("request_started", time.perf_counter())
    duration = time.perf_counter() - started
    response.headers["X-Request-ID"] = g.get("request_id") or accept_or_generate(None)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.path.startswith("/api/") and not request.path.startswith("/api/docs"):
        # Responses carry private data; no shared cache may keep them.
        response.headers.setdefault("Cache-Control", "no-store")
    for name, value in g.get("override_headers", {}).items():
        response.headers[name] = value
    route = request.url_rule.rule if request.url_rule else "<unmatched>"
    metrics.observe_request(request.method, route, response.status_code, duration)
    access_log.info(
        "request",
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(duration * 1000, 2),
            "user_agent": request.user_agent.string,
            "ip": request.remote_addr,
            "user_id": g.get("caller_id"),
        },
    )
    return response


def _end_request(_exc):
    token = g.pop("request_id_token", None)
    if token is not None:
        reset_request_id(token)
