"""Serves the admin console: one HTML page and its static modules, no build step, no CDN.

The console talks to seda only through the public REST API and the socket.io client, with the
signed-in admin's bearer token, exactly as any frontend does. Its pages carry a strict
Content-Security-Policy: scripts and styles from this origin only, nothing inline."""

from pathlib import Path

from flask import Blueprint, send_from_directory

from seda.common import ratelimit

STATIC = Path(__file__).parent / "static"
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

bp = Blueprint("console", __name__)


@bp.route("/console")
@bp.route("/console/")
@ratelimit.exempt
def page():
    return send_from_directory(STATIC, "index.html", max_age=0)


@bp.route("/console/static/<path:filename>")
@ratelimit.exempt
def asset(filename):
    return send_from_directory(STATIC, filename, max_age=300)


@bp.after_request
def lock_down(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
